"""An independent model of the small network's booking queue in SimPy, written from the
engine's specification, not its code: referrals each day (Poisson, the weekday shares),
a vetting delay (geometric), then a booking at 12:00 of the day the request becomes
appointable into the earliest released slot from tomorrow on; slots are released a week at
a time `release_weeks` ahead; patients not bookable wait, first come first served, for the
next release. Slots are tokens in a PriorityStore keyed by their day; the day's unused ones
are thrown away at its start."""

from __future__ import annotations

import heapq

import numpy as np
import simpy


def simpy_mean_wait(daily_rate: np.ndarray, slots_by_weekday: np.ndarray, vetting_mean: float,
                    weeks: int, warmup_weeks: int, release_weeks: int, seed: int) -> float:
    """Mean days from referral to the booked day, for patients seen after the warm-up."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    slots = simpy.PriorityStore(env)
    waits: list[int] = []
    horizon = 7 * weeks

    def release(week: int):
        for day in range(7 * week, 7 * week + 7):
            for _ in range(int(slots_by_weekday[day % 7])):
                slots.put(simpy.PriorityItem(day, day))

    def diary():
        for week in range(release_weeks):
            release(week)
        for day in range(horizon):
            yield env.timeout(day - env.now)
            if day % 7 == 0:
                release(day // 7 + release_weeks)
            slots.items[:] = [i for i in slots.items if i.priority > day]
            heapq.heapify(slots.items)

    def patient(referred: int, ready: int):
        yield env.timeout(ready + 0.5 - env.now)
        item = yield slots.get()
        if item.item >= 7 * warmup_weeks and item.item < horizon:
            waits.append(item.item - referred)

    def referrals():
        for day in range(horizon):
            yield env.timeout(day + 0.25 - env.now)
            for _ in range(rng.poisson(daily_rate[day % 7])):
                delay = rng.geometric(1 / (1 + vetting_mean)) - 1
                env.process(patient(day, day + delay))

    env.process(diary())
    env.process(referrals())
    env.run(until=horizon)
    return float(np.mean(waits))
