"""What happens during the test, in plain English, for each exam family: the catalogue's
`during_the_test.csv`, written for patients and reviewed by the network with the rest of the
catalogue (one row per family; a missing or repeated family is refused)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from domain.data_files import Column, DataFileError, one_of, read_table, text
from domain.exams import CATALOGUE_DIR
from domain.vocabulary import ExamFamily


def load_during_the_test(path: Path = CATALOGUE_DIR / "during_the_test.csv"
                         ) -> dict[ExamFamily, str]:
    """Each family's description; DataFileError names the row and field of a bad one."""
    rows = read_table(path, [Column("family", one_of(ExamFamily)),
                             Column("what_happens", text)])
    found: dict[ExamFamily, str] = {}
    for number, row in enumerate(rows, start=2):
        if row["family"] in found:
            raise DataFileError(path, f"family {row['family']} has a second row", number,
                                "family")
        found[row["family"]] = row["what_happens"]
    missing = sorted(set(ExamFamily) - set(found))
    if missing:
        raise DataFileError(path, f"no description for {', '.join(missing)}")
    return found


@cache
def during_the_test() -> dict[ExamFamily, str]:
    """The shipped file, read once per process."""
    return load_during_the_test()
