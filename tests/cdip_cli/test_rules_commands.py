"""`cdip rules check` from the command line."""

from typer.testing import CliRunner

from cdip_cli.main import app
from slot_rules.loading import RULESETS_DIR

runner = CliRunner()


def test_rules_check_accepts_the_shipped_files():
    files = [str(RULESETS_DIR / "appointability.yaml"), str(RULESETS_DIR / "slot_eligibility.yaml")]
    result = runner.invoke(app, ["rules", "check", *files])
    assert result.exit_code == 0
    assert "appointability rule set 'appointability' v2026.12.1, 15 rules" in result.output


def test_rules_check_exits_non_zero_naming_the_line_of_a_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (RULESETS_DIR / "appointability.yaml").read_text()
    bad.write_text(text.replace("{fact: age_years, gt: 65}", "{fact: age, gt: 65}", 1))
    line = text[:text.index("{fact: age_years, gt: 65}")].count("\n") + 1
    result = runner.invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert f"error: {bad}, line {line}, rule 'contrast-egfr-recent': unknown fact 'age'" in \
        result.output
