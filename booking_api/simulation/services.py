"""What-if runs in the database: start one (the scenario checked first, the job queued in
the same transaction), read them, and record a run's progress and outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import BookingError, NotFound
from booking_api.jobs.queue import enqueue
from booking_api.simulation.models import SimulationRun, SimulationRunCreate, SimulationRunState
from domain.network import Network
from simulations.whatif.experiment import RunPlan
from simulations.whatif.scenario import ScenarioError, check_against, parse_scenario

SIMULATION_JOB = "simulation_run"


def start_run(session: Session, actor: Actor, body: SimulationRunCreate, network: Network,
              first_day, now: datetime) -> SimulationRun:
    """A queued run, or BookingError naming the bad key of the scenario (nothing kept)."""
    try:
        scenario = parse_scenario(body.scenario_yaml)
        check_against(scenario, network, first_day)
        RunPlan(weeks=body.weeks, replications=body.replications,
                warmup_weeks=body.warmup_weeks, seed=body.seed)
    except ScenarioError as error:
        raise BookingError("the scenario is refused: " + "; ".join(error.problems),
                           "scenario_yaml." + error.problems[0].split(":")[0]) from error
    except ValueError as error:
        raise BookingError(str(error), str(error).split(":")[0]) from error
    run = SimulationRun(**body.model_dump(), name=scenario.name, created_by=actor.name,
                        created_at=now, progress_total=2 * body.replications)
    session.add(run)
    session.flush()
    enqueue(session, SIMULATION_JOB, {"run_id": run.id}, run_at=now)
    record_audit(session, actor, "simulation.start", "simulation_run", run.id,
                 after={"name": run.name, "weeks": run.weeks,
                        "replications": run.replications})
    return run


def get_run(session: Session, run_id: int) -> SimulationRun:
    run = session.get(SimulationRun, run_id)
    if run is None:
        raise NotFound("simulation run", run_id, "run_id")
    return run


def list_runs(session: Session, limit: int = 50) -> list[SimulationRun]:
    return list(session.scalars(select(SimulationRun).order_by(
        col(SimulationRun.id).desc()).limit(limit)))


def claim_run(session: Session, run_id: int, now: datetime) -> bool:
    """Mark a queued run running; False if it is not queued (already taken or finished)."""
    result = session.execute(update(SimulationRun).where(
        col(SimulationRun.id) == run_id, SimulationRun.state == SimulationRunState.QUEUED)
        .values(state=SimulationRunState.RUNNING, started_at=now))
    return result.rowcount == 1


def record_progress(session: Session, run_id: int, done: int, total: int) -> None:
    session.execute(update(SimulationRun).where(col(SimulationRun.id) == run_id)
                    .values(progress_done=done, progress_total=total))


def finish_run(session: Session, run_id: int, now: datetime,
               figures: list[dict[str, Any]] | None, error: str | None) -> None:
    state = SimulationRunState.FAILED if error else SimulationRunState.DONE
    session.execute(update(SimulationRun).where(col(SimulationRun.id) == run_id)
                    .values(state=state, finished_at=now, figures=figures,
                            error=None if error is None else error[:4000]))
