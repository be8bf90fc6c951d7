"""MIPs solved by HiGHS, started from a plan, through SciPy's own bindings to HiGHS
(`scipy.optimize._highspy`, which `scipy.optimize.milp` is built on; SciPy is pinned).

`milp` takes no starting point: a neighbourhood that HiGHS cannot finish in its time came back
empty, and its heuristics (RINS) had no plan to work from. Given the plan of the moment, a
search never comes back with less than it started from. (The `highspy` package has the same
API but cannot be loaded beside OR-Tools: it ships a libhighs of its own that clashes with the
one OR-Tools loads.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class MipArrays:
    """min cost · v + offset, row_lower ≤ A v ≤ row_upper, lower ≤ v ≤ upper, `integer` columns
    whole; A by columns. Plain arrays, so that it pickles without the optimiser."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    col_start: np.ndarray
    row_index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    offset: float = 0.0

    @classmethod
    def of(cls, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, matrix: sparse.spmatrix,
           row_lower: np.ndarray, row_upper: np.ndarray, integer: np.ndarray,
           offset: float = 0.0) -> MipArrays:
        by_column = sparse.csc_matrix(matrix)
        return cls(cost, lower, upper, by_column.indptr, by_column.indices, by_column.data,
                   row_lower, row_upper, np.asarray(integer, dtype=bool), float(offset))


@dataclass(frozen=True)
class MipAnswer:
    point: np.ndarray | None
    """The best point HiGHS knows (at worst the start); None when it has none."""
    optimal: bool
    status: str
    dual_bound: float | None


def highs_from(arrays: MipArrays, start: np.ndarray | None, options: dict[str, Any]):
    """A HiGHS instance holding the model, its options and (if given) the starting point."""
    from scipy.optimize._highspy import _core as highs_core

    highs = highs_core._Highs()
    for name, value in {"output_flag": False, **options}.items():
        highs.setOptionValue(name, value)
    highs.passModel(_lp(highs_core, arrays))
    if start is not None:
        begin = highs_core.HighsSolution()
        begin.col_value = start
        begin.value_valid = True
        highs.setSolution(begin)
    return highs


def answer_of(highs) -> MipAnswer:
    """What a HiGHS run ended with."""
    from scipy.optimize._highspy import _core as highs_core

    status = highs.getModelStatus()
    solution = highs.getSolution()
    point = np.array(solution.col_value, dtype=float) if solution.value_valid else None
    bound = float(highs.getInfo().mip_dual_bound)
    return MipAnswer(point, status == highs_core.HighsModelStatus.kOptimal,
                     highs.modelStatusToString(status), bound if np.isfinite(bound) else None)


def solve_mip(arrays: MipArrays, start: np.ndarray | None, time_limit_s: float,
              **options: Any) -> MipAnswer:
    """Run HiGHS on the model from `start` for at most `time_limit_s`."""
    highs = highs_from(arrays, start, {"time_limit": max(0.01, time_limit_s), **options})
    highs.run()
    return answer_of(highs)


def _lp(highs_core, arrays: MipArrays):
    lp = highs_core.HighsLp()
    lp.num_col_ = len(arrays.cost)
    lp.num_row_ = len(arrays.row_lower)
    lp.offset_ = arrays.offset
    lp.col_cost_ = arrays.cost
    lp.col_lower_ = arrays.lower
    lp.col_upper_ = arrays.upper
    lp.row_lower_ = arrays.row_lower
    lp.row_upper_ = arrays.row_upper
    matrix = lp.a_matrix_
    matrix.format_ = highs_core.MatrixFormat.kColwise
    matrix.num_col_, matrix.num_row_ = lp.num_col_, lp.num_row_
    matrix.start_, matrix.index_, matrix.value_ = (arrays.col_start, arrays.row_index,
                                                   arrays.value)
    kinds = highs_core.HighsVarType
    lp.integrality_ = [kinds.kInteger if whole else kinds.kContinuous for whole in arrays.integer]
    return lp
