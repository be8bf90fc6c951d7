"""The whole network's diary model solved as one MIP by HiGHS, in a process of its own beside
the rest of the build.

Site neighbourhoods cannot move demand from one site to another (each keeps the other sites'
bookings), so they settle about 4 % above our bound: 12.41 M against 11.87 M after 300 s on the
benchmark week (seed 1). HiGHS on the whole model (its own cuts on top of ours, then RENS and
RINS sub-MIPs) found a plan of 12.03 M in about 40 s on one core, and proved a bound of 11.93 M,
tighter than our LP's. It runs in a spawned process so that the build goes on meanwhile on the
other core; each plan HiGHS improves on is sent back as soon as it is found, so nothing is lost
when it is still running at the deadline, and the process is ended then whatever it is doing.
The child is `python -m optimiser.network_mip`, spoken to in pickles over its standard input
and output (not `multiprocessing`, whose spawned children import the caller's main module).

HiGHS is reached as in `highs_mip`, here with a callback: `milp` reports nothing until it ends."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import numpy as np

from optimiser.highs_mip import MipArrays, answer_of, highs_from

if TYPE_CHECKING:
    from optimiser.relaxation import NetworkModel

MIN_SECONDS = 20.0
"""With less time than this HiGHS does not get past its root cuts on the reference network, so
it is not started."""
MARGIN_S = 0.5
"""HiGHS is told to stop this long before the deadline, so that its last word arrives in time."""
HEURISTIC_EFFORT = 0.3
"""HiGHS's share of effort for primal heuristics (its default is 0.05). On the benchmark week,
one quiet core, with this and symmetry detection off (8.7 s of the minute there), HiGHS found
12.03 M after 40 s and 11.96 M after 60 s; with its defaults, 12.03 M after 44 s and nothing
better within the minute."""
RELATIVE_GAP = 1e-4


@dataclass(frozen=True)
class ImprovedPlan:
    """A plan HiGHS improved on, as a point of the network model."""

    objective: float
    dual_bound: float
    point: np.ndarray


@dataclass(frozen=True)
class Finished:
    status: str
    dual_bound: float | None


@dataclass(frozen=True)
class BoundRaised:
    """HiGHS proved a higher bound (sent at most once a second, so that a run ended at the
    deadline still leaves the bound it had proved)."""

    dual_bound: float


Message = ImprovedPlan | Finished | BoundRaised


class NetworkMip:
    """A HiGHS run on the whole network model, started from a plan, ended by a deadline (a
    `time.monotonic()` time: a clock the child shares)."""

    def __init__(self, model: NetworkModel, start: np.ndarray, deadline: float) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "optimiser.network_mip"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._arrived = threading.Condition()
        self._plans: list[ImprovedPlan] = []
        self.dual_bound: float | None = None
        self.status = "running"
        job = (model.mip_arrays(), start, deadline - MARGIN_S)
        self._listener = threading.Thread(target=self._talk, args=(job,),
                                          name="network-mip", daemon=True)
        self._listener.start()

    @property
    def running(self) -> bool:
        """HiGHS has not yet said it ended, nor been stopped."""
        with self._arrived:
            return self.status == "running"

    @property
    def alive(self) -> bool:
        """The child process is still there."""
        return self._process.poll() is None

    def improved_plans(self, wait_s: float = 0.0) -> list[ImprovedPlan]:
        """The plans HiGHS improved on since last asked, best last; waits up to `wait_s` for
        one when there are none yet and HiGHS is still running."""
        with self._arrived:
            if wait_s > 0:
                self._arrived.wait_for(lambda: self._plans or self.status != "running",
                                       timeout=wait_s)
            plans, self._plans = self._plans, []
            return plans

    def stop(self) -> None:
        """End the run (if still going) and the process."""
        with self._arrived:
            if self.status == "running":
                self.status = "stopped at the deadline"
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._listener.join(timeout=5)

    def _talk(self, job: tuple) -> None:
        """Send the job, then hear the child out (the pipe closes when it ends or is killed)."""
        try:
            pickle.dump(job, self._process.stdin)
            self._process.stdin.close()
            while True:
                self._heard(pickle.load(self._process.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            self._heard(Finished("ended without an answer", None))

    def _heard(self, message: Message) -> None:
        with self._arrived:
            bound = message.dual_bound
            if bound is not None and np.isfinite(bound) and \
                    (self.dual_bound is None or bound > self.dual_bound):
                self.dual_bound = bound
            if isinstance(message, ImprovedPlan):
                self._plans.append(message)
            elif isinstance(message, Finished) and self.status == "running":
                self.status = message.status
            self._arrived.notify_all()


def _solve(send: Callable[[Message], None], arrays: MipArrays,
           start: np.ndarray, stop_at: float) -> None:
    """In the child: run HiGHS until `stop_at`, sending each improved plan and then the end."""
    from scipy.optimize._highspy import _core as highs_core

    highs = highs_from(arrays, start, {"threads": 1, "mip_detect_symmetry": False,
                                       "mip_heuristic_effort": HEURISTIC_EFFORT,
                                       "mip_rel_gap": RELATIVE_GAP})

    kinds = highs_core.cb.HighsCallbackType
    last_bound = {"value": -np.inf, "at": 0.0}

    def heard(kind, message, out, into, user) -> None:
        bound = float(out.mip_dual_bound)
        if kind == kinds.kCallbackMipImprovingSolution:
            send(ImprovedPlan(float(out.objective_function_value), bound,
                              np.array(out.mip_solution, dtype=float)))
        elif bound > last_bound["value"] and time.monotonic() - last_bound["at"] >= 1.0:
            send(BoundRaised(bound))
        else:
            return
        last_bound.update(value=bound, at=time.monotonic())

    highs.setCallback(heard, None)
    highs.startCallback(kinds.kCallbackMipImprovingSolution)
    highs.startCallback(kinds.kCallbackMipInterrupt)
    highs.setOptionValue("time_limit", max(0.1, stop_at - time.monotonic()))
    highs.run()
    answer = answer_of(highs)
    send(Finished(answer.status, answer.dual_bound))


def _main() -> None:
    """The child: the job from standard input, messages to standard output (which is kept for
    them alone: anything else printed there goes to standard error)."""
    messages: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    def send(message: Message) -> None:
        pickle.dump(message, messages)
        messages.flush()

    arrays, start, stop_at = pickle.load(sys.stdin.buffer)
    _solve(send, arrays, start, stop_at)


if __name__ == "__main__":
    # Run as the module's importable self, so that what it pickles names this module's classes.
    from optimiser.network_mip import _main as main

    main()
