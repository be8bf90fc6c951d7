"""`cdip bench diary`: one week of the whole reference network, planned by the optimiser and by
two baselines on the same instance (the site-by-site greedy, and the reach greedy that plans
each site for all demand within the travel limit and books by min-cost flow), with demand at
about 110 % of what staff can run on weekday days (so evening and weekend sessions are needed)."""

from __future__ import annotations

from datetime import date

from cdip_bench.plan import PLANNED_WEEKS, synthetic_history
from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.staff_availability import load_reference_staff_availability
from forecasting.demand import DEFAULT_MODEL, forecast_demand
from forecasting.diary_demand import demand_mix, diary_demand
from optimiser.build import build_diary
from optimiser.demand_model import synthetic_weekly_demand
from optimiser.evaluation import metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import compile_instance
from optimiser.problem import DemandRow, DiaryProblem
from optimiser.reach_greedy import reach_greedy_solution
from optimiser.relaxation import solve_relaxation
from simulations.planning_world import cut_history

BENCH_WEEK = date(2026, 12, 7)
BENCH_TRAVEL_LIMIT_KM = 50.0
DEMAND_LOAD = 1.10


def diary_benchmark(seed: int = 0, time_limit: float = 60.0, demand: str = "synthetic") -> dict:
    """Solve one week of the reference network with the optimiser and both greedy baselines;
    `demand`: synthetic (110 % of weekday capacity) or forecast (a synthetic history's
    forecast plus its waiting list, as `cdip diary build` plans; about 2.5 minutes to make)."""
    if demand not in DEMANDS:
        raise DiaryBenchError(f"--demand: '{demand}' is not one of {', '.join(DEMANDS)}")
    problem = DEMANDS[demand](seed)
    plan = build_diary(problem, time_limit_s=time_limit, seed=seed)
    instance = compile_instance(problem)
    lp_bound = plan.lp_bound
    if lp_bound is None:  # the build's LP did not finish in time: solve it to the end here
        lp_bound = solve_relaxation(instance, time_limit_s=120.0).bound
    greedy = metrics(instance, greedy_solution(instance))
    reach = metrics(instance, reach_greedy_solution(instance))
    ours = plan.metrics
    return {
        "demand": demand,
        "exams_demanded": round(sum(row.expected_count for row in problem.demand)),
        "rooms": len(problem.network.rooms),
        "room_sessions": ours.room_sessions,
        "seconds_to_usable": _round(plan.seconds_to_usable),
        "seconds": round(plan.seconds, 2),
        "objective": round(ours.objective),
        "objective_greedy": round(greedy.objective),
        "objective_reach_greedy": round(reach.objective),
        "bound": _round(plan.bound, 0),
        "bound_method": plan.bound_method,
        "gap": _round(plan.gap, 4),
        "bound_lp": _round(lp_bound, 0),
        "gap_lp": _round(_gap(ours.objective, lp_bound), 4),
        "errors": list(plan.errors),
        "unmet_demand": ours.unmet_exams,
        "unmet_demand_greedy": greedy.unmet_exams,
        "unmet_demand_reach_greedy": reach.unmet_exams,
        "mean_travel_km": round(ours.mean_travel_km, 3),
        "mean_travel_km_greedy": round(greedy.mean_travel_km, 3),
        "mean_travel_km_reach_greedy": round(reach.mean_travel_km, 3),
        "offpeak_sessions": ours.offpeak_sessions,
        "offpeak_sessions_greedy": greedy.offpeak_sessions,
        "offpeak_sessions_reach_greedy": reach.offpeak_sessions,
        "utilisation": round(ours.utilisation, 4),
        "utilisation_greedy": round(greedy.utilisation, 4),
        "utilisation_reach_greedy": round(reach.utilisation, 4),
    }


def bench_problem(seed: int) -> DiaryProblem:
    network = load_reference_network()
    templates = session_templates()
    return DiaryProblem(
        network=network, templates=templates, week_start=BENCH_WEEK,
        demand=synthetic_weekly_demand(network, templates, BENCH_WEEK, seed, DEMAND_LOAD),
        staff_availability=load_reference_staff_availability(network),
        travel_limit_km=BENCH_TRAVEL_LIMIT_KM,
    )


def forecast_problem(seed: int) -> DiaryProblem:
    """The first week after the cut-off of a synthetic history of the whole network (at its
    full volume, 58 weeks: a year to fit on and the six planned), planned as the service
    plans it: the default forecast (`DEFAULT_MODEL`) turned into diary demand, plus the
    requests waiting at the cut-off in the week their breach date needs; the shipped rota."""
    network = load_reference_network()
    world = cut_history(synthetic_history(network, seed, 1.0, 52 + PLANNED_WEEKS),
                        PLANNED_WEEKS, network)
    forecast = forecast_demand(world.known, 1, DEFAULT_MODEL, seed)
    monday = world.weeks[0]
    rows = diary_demand(forecast, demand_mix(world.known, world.patients), monday,
                        world.waiting, world.cutoff)
    return DiaryProblem(
        network=network, templates=session_templates(), week_start=monday,
        demand=tuple(DemandRow(r.family, r.area_id, r.priority, r.expected_count, r.age_band)
                     for r in rows),
        staff_availability=load_reference_staff_availability(network),
        travel_limit_km=BENCH_TRAVEL_LIMIT_KM,
    )


DEMANDS = {"synthetic": bench_problem, "forecast": forecast_problem}


class DiaryBenchError(ValueError):
    """An option the benchmark cannot run with; the message names it."""


def _gap(objective: float, bound: float | None) -> float | None:
    """The gap to our own LP bound alone, beside `gap` (to the best bound the build proved,
    which may be HiGHS's): the LP's is the one every build has."""
    return None if bound is None else (objective - bound) / objective


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
