"""Running a what-if run as a background job: read the start state from the database, run
the replications outside any transaction (in the worker's process, or on the dask cluster
the settings name), record progress as replications finish, then store the comparison. A
run the engine cannot start fails with the reason a manager can act on; it is not retried.
A replication whose dask worker dies is run again on another worker by dask itself (up to
its `allowed-failures`); past that, or if the cluster is lost, the run fails saying so, so
no run is left 'running' by a dead worker."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from booking_api.core.db import Database
from booking_api.diary.demand import DemandSourceError
from booking_api.simulation import services
from booking_api.simulation.start_state import StartStateError, read_start_state
from domain.network import Network, load_reference_network
from domain.session_templates import session_templates
from simulations.whatif.experiment import RunPlan, run_experiment
from simulations.whatif.scenario import ScenarioError, parse_scenario
from simulations.whatif.summary import compare

logger = logging.getLogger(__name__)


def run_simulation(db: Database, run_id: int, now: datetime, *, zone,
                   scheduler: str | None = None, workers: int = 0,
                   network: Network | None = None) -> None:
    """Run a queued run to its end (a run already taken or finished is left alone)."""
    with db.transaction() as session:
        if not services.claim_run(session, run_id, now):
            return
        run = services.get_run(session, run_id)
        text, plan = run.scenario_yaml, RunPlan(run.weeks, run.replications, run.warmup_weeks,
                                                run.seed)
    try:
        with db.reading() as session:
            start = read_start_state(session, network or load_reference_network(),
                                     session_templates(),
                                     zone, now.astimezone(zone).date())

        def progress(done: int, total: int) -> None:
            with db.transaction() as session:
                services.record_progress(session, run_id, done, total)

        experiment = run_experiment(start, parse_scenario(text), plan, scheduler=scheduler,
                                    workers=workers, progress=progress)
        figures = compare(experiment.baseline, experiment.changed,
                          experiment.baseline_inputs.world)
        rows = [{k: _plain(v) for k, v in row.items()} for row in figures.to_dict("records")]
        error = None
    except (StartStateError, DemandSourceError, ScenarioError, ValueError) as failure:
        rows, error = None, str(failure)
    except Exception as failure:  # a worker killed past dask's retries, a lost scheduler
        logger.warning("simulation run stopped", extra={
            "event": "simulation_run_stopped", "run_id": run_id,
            "error": type(failure).__name__})
        rows, error = None, (f"the run stopped: {type(failure).__name__}: {failure}. A "
                             "simulation worker died or the cluster was lost; start the "
                             "run again.")
    with db.transaction() as session:
        services.finish_run(session, run_id, datetime.now(now.tzinfo), rows, error)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value
