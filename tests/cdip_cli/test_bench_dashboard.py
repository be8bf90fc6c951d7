"""`cdip bench dashboard` refuses too few views before building anything."""

from typer.testing import CliRunner

from cdip_cli.main import app


def test_too_few_views_are_refused_naming_the_option() -> None:
    result = CliRunner().invoke(app, ["bench", "dashboard", "--views", "5"])
    assert result.exit_code == 2
    assert "views must be at least 10" in result.output
