"""One CP-SAT sub-model of the diary optimiser: a modality (CT) of a two-site network solved to
optimality from the greedy plan's hint, on one worker so the search itself is deterministic."""

from __future__ import annotations

import time

import pytest

from cdip_bench.micro.workloads import small_diary_problem
from domain.vocabulary import Modality
from optimiser.evaluation import Solution
from optimiser.greedy import greedy_solution
from optimiser.instance import Instance, compile_instance
from optimiser.modality_model import solve_modality
from optimiser.staff_split import StaffSplit, split_staff

DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def two_sites() -> tuple[Instance, Solution, StaffSplit]:
    instance = compile_instance(small_diary_problem(sites=2))
    greedy = greedy_solution(instance)
    return instance, greedy, split_staff(instance, greedy.z.astype(float))


def test_ct_sub_model_of_a_two_site_network_solved_to_optimality(benchmark, two_sites):
    instance, hint, split = two_sites

    def solve():
        return solve_modality(instance, Modality.CT, split, hint,
                              deadline=time.perf_counter() + DEADLINE_S, seed=0, workers=1)

    result = benchmark(solve)

    assert result.status == "OPTIMAL"
    assert sum(result.x.values()) > 0
