"""The reporting engine's own errors: bad input frames, a month or census date it cannot report,
and a built return that breaks its published layout (a bug, never silently written)."""

from __future__ import annotations


class ReportingError(ValueError):
    """Base of every error the reporting engine raises on purpose."""


class ReportInputError(ReportingError):
    """An input frame that cannot be reported from; names the frame, column and row."""

    def __init__(self, frame: str, problem: str, column: str | None = None,
                 row: int | None = None) -> None:
        where = frame
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")
        self.frame = frame
        self.column = column
        self.row = row
        self.problem = problem


class ReportPeriodError(ReportingError):
    """A month or date that is not a valid reporting period."""


class ReturnLayoutError(ReportingError):
    """A built national return whose columns or cells break the published layout."""
