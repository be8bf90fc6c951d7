"""docs/reports.md describes every input frame and column the engine checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.inputs import SCHEMA

DOC = (Path(__file__).parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("frame", "column"), [(frame, column.name)
                                               for frame, columns in SCHEMA.items()
                                               for column in columns])
def test_docs_describe_every_input_column(frame: str, column: str) -> None:
    assert f"### {frame}" in DOC or f"| {frame} |" in DOC
    assert column in DOC
