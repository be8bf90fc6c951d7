"""One replication of the network, day by day: referrals drawn from the forecast, vetting,
walk-ins, patient choice of site, booking into the released diaries (most urgent first),
cancellations, DNAs and rebookings, backfill of freed slots, weekly diary release, random
breakdowns. Aggregated where nothing is lost by it: a day's patients are chosen and booked
together against per-queue daily slot counts, so a network-year is a few hundred vectorised
steps rather than millions of per-minute events. Same inputs and seed, same numbers."""

from __future__ import annotations

import time

import numpy as np

from domain.vocabulary import ExamFamily
from reporting.waiting_list import DM01_TESTS, dm01_test
from simulations.whatif import patients as P
from simulations.whatif.calendar import Calendar
from simulations.whatif.choice import SiteChooser
from simulations.whatif.inputs import Inputs
from simulations.whatif.patient_models import (
    CLERK_REBOOK_NOTICE_DAYS,
    REBOOK_AFTER_DNA,
    WALK_IN_SHARE,
    adult_age,
    cancellation,
    dna_probability,
    patient_effect_sd,
    vetting_delay,
)
from simulations.whatif.replication import MAX_WAIT_DAYS, WALK_IN_MAX_MINUTES, ReplicationResult
from simulations.whatif.room_plan import site_slots
from simulations.whatif.walk_in import clinic_day_waits
from simulations.whatif.world import FAMILIES, FAMILY_MODALITY

N_FAMILIES = len(FAMILIES)
XR_PLAIN = FAMILIES.index(ExamFamily.XR_PLAIN)
PLANNED = 3
URGENT_PRIORITIES = 2
"""Two-week-wait and urgent are priorities 0 and 1."""
FAMILY_TEST = np.array([DM01_TESTS.index(t) if (t := dm01_test(f)) else -1 for f in FAMILIES])
PLANNED_DUE_WEEKS = (4, 13)
PLANNED_BOOK_BEFORE_DAYS = 14
REBOOK_WITHIN_DAYS = 7
OFFER_SCAN = 8
"""A freed slot's candidates are looked for among the first OFFER_SCAN × candidates waiting
patients for its exam (in order); those who cannot reach the site are passed over."""
WALK_IN_SAMPLE = 0.1
"""Share of site-days whose walk-in clinic is simulated minute by minute."""


def simulate(inputs: Inputs, seed: int) -> ReplicationResult:
    """One replication of `inputs` from `seed`."""
    return _Run(inputs, seed).run()


class _Run:
    def __init__(self, inputs: Inputs, seed: int) -> None:
        self.inputs, self.world, self.policy = inputs, inputs.world, inputs.policies
        self.rng = np.random.default_rng(seed)
        self.horizon = 7 * (self.policy.release_weeks + 1)
        total_days = inputs.days + self.horizon + 7
        self.calendar = Calendar(self.world.n_groups, total_days)
        expected = float((self.world.weekly_rate[None, :] * inputs.rate_multiplier).sum())
        self.patients = P.Patients(int(expected * 1.05) + len(inputs.start.family) + 1000,
                                   total_days)
        self.chooser = SiteChooser(self.world, inputs.rooms_per_site(), self.policy.choice,
                                   self.policy.own_trust)
        self.warm_day = 7 * inputs.warmup_weeks
        self.result = ReplicationResult.empty(seed, len(self.world.trust_ids),
                                              self.world.n_sites, len(DM01_TESTS),
                                              inputs.weeks - inputs.warmup_weeks)
        self.backlog = np.zeros(0, dtype=np.int64)
        self.walkers = np.zeros(0, dtype=np.int64)
        self.weeks: dict[int, np.ndarray] = {}

    def run(self) -> ReplicationResult:
        started, cpu = time.perf_counter(), time.process_time()
        for week in range(self.policy.release_weeks):
            self._release(week)
        self._start_patients()
        breakdowns = self._draw_breakdowns()
        for t in range(self.inputs.days):
            if t % 7 == 0:
                self._release(t // 7 + self.policy.release_weeks)
            self._open_held(t)
            for room, days in breakdowns.get(t, ()):
                self._break_down(t, room, days)
            self._refer(t)
            self._cancel(t)
            self._attend(t)
            self._become_ready(t)
            self._walk_in(t)
            self._book(t)
            if (t + 1) % 7 == 0 and t >= self.warm_day:
                self._weekly(t)
        self._finish()
        self.result.seconds = time.perf_counter() - started
        self.result.cpu_seconds = time.process_time() - cpu
        return self.result

    # --- diaries -------------------------------------------------------------------------

    def _week(self, week: int) -> np.ndarray:
        if week not in self.weeks:
            self.weeks[week] = self.inputs.week_slots(week)
        return self.weeks[week]

    def _release(self, week: int) -> None:
        per_site = site_slots(self._week(week), self.inputs.room_site, self.world.n_sites)
        self.calendar.release(7 * week, per_site.reshape(self.world.n_groups, 7),
                              self.inputs.hold_share)

    def _open_held(self, t: int) -> None:
        """Urgent hold-backs open to all `hold_release_days` ahead (walk-in holds never)."""
        groups = np.flatnonzero(np.arange(self.world.n_groups) % N_FAMILIES != XR_PLAIN)
        self.calendar.open_held(t + self.policy.hold_release_days, groups)

    def _draw_breakdowns(self) -> dict[int, list[tuple[int, int]]]:
        settings = self.policy.breakdowns
        if not settings.enabled:
            return {}
        modality = self.inputs.room_modality
        p = 1 / np.array(settings.mtbf_days)[modality]
        starts = self.rng.random((len(modality), self.inputs.days)) < p[:, None]
        rooms, days = np.nonzero(starts)
        repair = self.rng.geometric(1 / np.array(settings.repair_mean_days)[modality[rooms]])
        plan: dict[int, list[tuple[int, int]]] = {}
        for room, day, length in zip(rooms.tolist(), days.tolist(), repair.tolist(),
                                     strict=True):
            plan.setdefault(day, []).append((room, length))
        return plan

    def _break_down(self, t: int, room: int, days: int) -> None:
        """The room's slots vanish for `days` days; patients booked beyond what is left of
        the day are cancelled by the hospital and rebooked (their clock runs on)."""
        self.result.events += 1
        site = int(self.inputs.room_site[room])
        for day in range(t, min(t + days, self.inputs.days)):
            slots = self._week(day // 7)[room, day % 7]
            for family in np.flatnonzero(slots):
                group = site * N_FAMILIES + family
                bumped = self.calendar.remove(group, day, int(slots[family]))
                if bumped:
                    self._bump(t, day, site, family, bumped)

    def _bump(self, t: int, day: int, site: int, family: int, count: int) -> None:
        bucket = self.patients.due_lists[day]
        if not bucket:
            return
        ids = np.concatenate(bucket)
        pts = self.patients
        hit = ids[(pts.state[ids] == P.BOOKED) & (pts.appt[ids] == day)
                  & (pts.site[ids] == site) & (pts.family[ids] == family)][:count]
        pts.set(hit, state=P.PENDING, site=-1, appt=-1, cancel_on=-1, ready=t)
        pts.schedule(pts.ready_lists, hit, np.full(len(hit), t))

    # --- patients ------------------------------------------------------------------------

    def _start_patients(self) -> None:
        start, rng = self.inputs.start, self.rng
        n = len(start.family)
        if n == 0:
            return
        trust = self._referral_trust(start.family, start.area)
        booked = start.appt >= 0
        ready = np.where(start.priority == PLANNED,
                         np.maximum(0, start.due - PLANNED_BOOK_BEFORE_DAYS), 0)
        ids = self.patients.add(
            n, family=start.family, area=start.area, priority=start.priority,
            adult=start.adult, trust=trust, age=self._ages(start.adult),
            effect=rng.normal(0, patient_effect_sd(), n), received=start.received,
            clock=start.received, ready=ready, site=np.where(booked, start.site, -1),
            appt=np.where(booked, start.appt, -1), booked_on=np.where(booked, 0, -1),
            state=np.where(booked, P.BOOKED, P.PENDING))
        self.patients.schedule(self.patients.ready_lists, ids[~booked], ready[~booked])
        held = ids[booked]
        groups = self.patients.site[held] * N_FAMILIES + self.patients.family[held]
        for group, day in zip(groups.tolist(), self.patients.appt[held].tolist(), strict=True):
            if day < self.calendar.n_days:
                self.calendar.remove(group, day, 1)
        self.calendar.lost[:] = 0
        self._price_bookings(held, np.zeros(len(held), dtype=np.int64))

    def _referral_trust(self, family: np.ndarray, area: np.ndarray) -> np.ndarray:
        cumulative = self.world.referral_trust_cumulative
        trusts = cumulative.shape[1]
        row = FAMILY_MODALITY[family].astype(np.int64) * len(self.world.area_ids) + area
        flat = (cumulative + np.arange(len(cumulative))[:, None]).ravel()
        index = np.searchsorted(flat, row + self.rng.random(len(row)), side="right")
        return np.minimum(index - row * trusts, trusts - 1)

    def _ages(self, adult: np.ndarray) -> np.ndarray:
        return np.where(adult == 1, adult_age(self.rng, len(adult)),
                        self.rng.integers(0, 16, len(adult)))

    def _refer(self, t: int) -> None:
        world, rng = self.world, self.rng
        cells = world.cells
        rate = (world.weekly_rate * self.inputs.rate_multiplier[t // 7]
                * world.weekday_share[cells[:, 0], t % 7])
        cell = np.repeat(np.arange(len(cells)), rng.poisson(rate))
        n = len(cell)
        family, area, priority, adult = (cells[cell, i] for i in range(4))
        walk_in = (family == XR_PLAIN) & (rng.random(n) < np.array(WALK_IN_SHARE)[priority])
        ready = t + np.where(walk_in, 0, vetting_delay(priority, rng))
        due = t + 7 * rng.integers(PLANNED_DUE_WEEKS[0], PLANNED_DUE_WEEKS[1] + 1, n)
        ready = np.where(priority == PLANNED,
                         np.maximum(ready, due - PLANNED_BOOK_BEFORE_DAYS), ready)
        ids = self.patients.add(
            n, family=family, area=area, priority=priority, adult=adult,
            trust=self._referral_trust(family, area), age=self._ages(adult),
            effect=rng.normal(0, patient_effect_sd(), n), received=t, clock=t, ready=ready,
            state=P.PENDING, walk_in=walk_in)
        self.patients.schedule(self.patients.ready_lists, ids, ready)
        self.result.events += n

    def _cancel(self, t: int) -> None:
        pts = self.patients
        ids = pts.take(pts.cancel_lists, t)
        ids = ids[(pts.state[ids] == P.BOOKED) & (pts.cancel_on[ids] == t)]
        if len(ids) == 0:
            return
        groups = pts.site[ids].astype(np.int64) * N_FAMILIES + pts.family[ids]
        appt = pts.appt[ids]
        notice = appt - t
        offered = np.zeros(len(ids), dtype=bool)
        if self.policy.backfill:
            offered = self._offer(t, pts.site[ids].astype(np.int64),
                                  pts.family[ids].astype(np.int64), appt)
        # Unfilled, the slot stays open for booking with backfill (the service knows it is
        # free); without, only when a clerk has a week to write to someone.
        back = ~offered if self.policy.backfill else notice >= CLERK_REBOOK_NOTICE_DAYS
        self.calendar.give_back(groups[back], appt[back])
        if t >= self.warm_day:
            self.result.freed += len(ids)
            self.result.refilled += int(back.sum() + offered.sum())
            self.result.filled_by_offer += int(offered.sum())
        by_patient = pts.by_patient[ids]
        ready = np.where(by_patient, t + 1 + self.rng.integers(0, REBOOK_WITHIN_DAYS, len(ids)),
                         t)
        pts.set(ids, state=P.PENDING, site=-1, appt=-1, cancel_on=-1, ready=ready)
        pts.set(ids[by_patient], clock=t)
        pts.schedule(pts.ready_lists, ids, ready)
        self.result.events += len(ids)

    def _offer(self, t: int, site: np.ndarray, family: np.ndarray,
               day: np.ndarray) -> np.ndarray:
        """Backfill: each freed slot offered in turn to up to `candidates` waiting patients who
        could book it (same exam; the site within their reach and, under "own trust", of
        their trust), most urgent and longest waiting first; each answers by the response
        model with their own distance and wait and the slot's notice; the first yes is
        booked into the slot. True per slot taken."""
        pts, model = self.patients, self.policy.backfill_model
        waiting = self.backlog[pts.state[self.backlog] == P.WAITING]
        taken = np.zeros(len(site), dtype=bool)
        if len(waiting) == 0:
            return taken
        trusts = len(self.world.trust_ids)
        own = self.policy.own_trust
        key = pts.family[waiting].astype(np.int64) * trusts + (pts.trust[waiting] if own else 0)
        order = np.lexsort((pts.clock[waiting], pts.priority[waiting], key))
        waiting, key = waiting[order], key[order]
        wanted = family * trusts + (self.world.site_trust[site] if own else 0)
        first = np.searchsorted(key, wanted, side="left")
        last = np.searchsorted(key, wanted, side="right")
        scan = OFFER_SCAN * model.candidates
        state, reachable = pts.columns["state"], self.chooser.reachable
        accepted: list[tuple[int, int, int]] = []
        for i in np.argsort(day, kind="stable"):  # the soonest slots offered first
            pool = waiting[first[i]:min(last[i], first[i] + scan)]
            pool = pool[(state[pool] == P.WAITING) & reachable[pts.area[pool], site[i]]]
            pool = pool[:model.candidates]
            if len(pool) == 0:
                continue
            p_yes = model.response.p_yes_in_day(
                float(day[i] - t), self.world.distance_km[pts.area[pool], site[i]],
                t - pts.clock[pool], pts.priority[pool] < URGENT_PRIORITIES)
            yes = np.flatnonzero(self.rng.random(len(pool)) < p_yes)
            if len(yes):
                patient = int(pool[yes[0]])
                state[patient] = P.BOOKED
                accepted.append((patient, int(site[i]), int(day[i])))
                taken[i] = True
        if accepted:
            ids, sites, days = (np.array(column) for column in zip(*accepted, strict=True))
            pts.set(ids, site=sites, appt=days, booked_on=t, walk_in=False)
            self._price_bookings(ids, np.full(len(ids), t))
            self.result.events += len(ids)
        return taken

    def _attend(self, t: int) -> None:
        pts, rng = self.patients, self.rng
        ids = pts.take(pts.due_lists, t)
        ids = ids[(pts.state[ids] == P.BOOKED) & (pts.appt[ids] == t)]
        if len(ids) == 0:
            return
        dna = rng.random(len(ids)) < pts.p_dna[ids]
        self._seen(t, ids[~dna])
        missed = ids[dna]
        if t >= self.warm_day:
            np.add.at(self.result.dna, (pts.site[missed], FAMILY_MODALITY[pts.family[missed]]), 1)
        rebook = rng.random(len(missed)) < REBOOK_AFTER_DNA
        ready = t + 1 + rng.integers(0, REBOOK_WITHIN_DAYS, len(missed))
        pts.set(missed, prior_dna=pts.prior_dna[missed] + 1, site=-1, appt=-1, clock=t,
                ready=ready, state=np.where(rebook, P.PENDING, P.LEFT))
        pts.schedule(pts.ready_lists, missed[rebook], ready[rebook])
        self.result.events += len(ids)

    def _seen(self, t: int, ids: np.ndarray) -> None:
        pts = self.patients
        pts.set(ids, state=P.SEEN)
        if t < self.warm_day or len(ids) == 0:
            return
        site, trust = pts.site[ids], pts.trust[ids]
        modality = FAMILY_MODALITY[pts.family[ids]]
        wait = np.minimum(t - pts.clock[ids], MAX_WAIT_DAYS)
        np.add.at(self.result.attended, (site, modality), 1)
        waited = pts.priority[ids] != PLANNED  # a planned test waits for its due date
        np.add.at(self.result.wait_days, (trust[waited], modality[waited], wait[waited]), 1)
        km = self.world.distance_km[pts.area[ids], site]
        np.add.at(self.result.travel_km, (trust, 0), km)
        np.add.at(self.result.travel_km, (trust, 1), 1)

    def _become_ready(self, t: int) -> None:
        pts = self.patients
        ids = pts.take(pts.ready_lists, t)
        ids = ids[(pts.state[ids] == P.PENDING) & (pts.ready[ids] == t)]
        pts.set(ids, state=P.WAITING)
        walking = pts.walk_in[ids] & (pts.received[ids] == t)
        self.walkers = ids[walking]
        self.backlog = np.concatenate((self.backlog, ids[~walking]))

    def _walk_in(self, t: int) -> None:
        """Walk-ins go to a plain-film department open today (nearest by the choice model,
        waits aside) and are seen if its day has room; the rest are booked like anyone."""
        ids, self.walkers = self.walkers, np.zeros(0, dtype=np.int64)
        if len(ids) == 0:
            return
        pts, cal = self.patients, self.calendar
        today = (cal.free[:, t] + cal.held[:, t]).reshape(self.world.n_sites, N_FAMILIES)
        no_wait = np.zeros(today.shape)
        site = self.chooser.choose(pts.area[ids], pts.family[ids], pts.adult[ids],
                                   pts.trust[ids], no_wait, today > 0, self.rng)
        has = site >= 0
        groups = site[has].astype(np.int64) * N_FAMILIES + XR_PLAIN
        order = np.argsort(groups, kind="stable")
        rank = np.arange(len(order)) - np.searchsorted(groups[order], groups[order])
        served_sorted = rank < today.ravel()[groups[order]]
        served = np.zeros(len(groups), dtype=bool)
        served[order] = served_sorted
        seen = ids[has][served]
        taken = np.bincount(groups[served], minlength=self.world.n_groups)
        from_held = np.minimum(taken, cal.held[:, t])
        cal.held[:, t] -= from_held
        cal.free[:, t] -= taken - from_held
        pts.set(seen, site=site[has][served], appt=t, state=P.BOOKED)
        self._seen(t, seen)
        if t >= self.warm_day:
            self._clinic_minutes(t, np.bincount(site[has][served], minlength=self.world.n_sites))
        rest = np.concatenate((ids[~has], ids[has][~served]))
        pts.set(rest, walk_in=False)
        self.backlog = np.concatenate((self.backlog, rest))
        self.result.events += len(ids)

    def _clinic_minutes(self, t: int, per_site: np.ndarray) -> None:
        rooms_today = self._week(t // 7)[:, t % 7, XR_PLAIN] > 0
        rooms = np.bincount(self.inputs.room_site[rooms_today], minlength=len(per_site))
        for site in np.flatnonzero(per_site):
            if self.rng.random() < WALK_IN_SAMPLE:
                waits = clinic_day_waits(int(per_site[site]), int(rooms[site]), self.rng)
                minutes = np.minimum(np.round(waits).astype(np.int64), WALK_IN_MAX_MINUTES)
                self.result.walk_in_minutes += np.bincount(minutes,
                                                           minlength=WALK_IN_MAX_MINUTES + 1)

    def _book(self, t: int) -> None:
        pts, cal = self.patients, self.calendar
        ids = self.backlog[pts.state[self.backlog] == P.WAITING]
        if len(ids) == 0:
            self.backlog = ids
            return
        shape = (self.world.n_sites, N_FAMILIES)
        window = slice(t + 1, t + 1 + self.horizon)
        open_groups = cal.planned[:, window].any(axis=1).reshape(shape)
        free = cal.free[:, window].any(axis=1).reshape(shape)
        free_or_held = free | cal.held[:, window].any(axis=1).reshape(shape)
        urgent = pts.priority[ids] < URGENT_PRIORITIES
        chance = np.zeros(len(ids), dtype=bool)
        for mine, room in ((urgent, free_or_held), (~urgent, free)):
            chance[mine] = self.chooser.could_book(pts.area[ids[mine]], pts.family[ids[mine]],
                                                   pts.adult[ids[mine]], pts.trust[ids[mine]],
                                                   open_groups, room)
        stuck, ids = ids[~chance], ids[chance]
        wait = cal.first_free(t + 1, self.horizon).reshape(shape) / 7
        site = self.chooser.choose(pts.area[ids], pts.family[ids], pts.adult[ids],
                                   pts.trust[ids], wait, open_groups, self.rng)
        order = np.lexsort((pts.clock[ids], pts.priority[ids]))
        ids, site = ids[order], site[order]
        days = np.full(len(ids), -1, dtype=np.int32)
        urgent = pts.priority[ids] < URGENT_PRIORITIES
        for chosen, use_held in ((urgent & (site >= 0), True), (~urgent & (site >= 0), False)):
            groups = site[chosen].astype(np.int64) * N_FAMILIES + pts.family[ids[chosen]]
            days[chosen] = cal.book(groups, t + 1, self.horizon, use_held)
        booked = days >= 0
        pts.set(ids[booked], site=site[booked], appt=days[booked], booked_on=t, state=P.BOOKED)
        self._price_bookings(ids[booked], np.full(booked.sum(), t))
        self.backlog = np.concatenate((stuck, ids[~booked]))
        self.result.events += int(booked.sum())

    def _price_bookings(self, ids: np.ndarray, today: np.ndarray) -> None:
        """Draw each new booking's fate: cancellation (and when), and its DNA risk."""
        pts, rng = self.patients, self.rng
        appt = pts.appt[ids]
        lead = (appt - today).astype(np.int64)
        cancelled, by_patient, offset = cancellation(lead, rng)
        if not self.policy.patient_events:
            cancelled[:] = False
        cancel_on = np.where(cancelled, today + offset, -1)
        area, site = pts.area[ids], pts.site[ids]
        p_dna = dna_probability(lead, pts.age[ids].astype(float),
                                self.world.area_imd[area].astype(float),
                                self.world.distance_km[area, site], appt % 7,
                                pts.prior_dna[ids].astype(float), pts.effect[ids], rng)
        if not self.policy.patient_events:
            p_dna[:] = 0.0
        pts.set(ids, cancel_on=cancel_on, by_patient=by_patient, p_dna=p_dna)
        pts.schedule(pts.due_lists, ids, appt.astype(np.int64))
        pts.schedule(pts.cancel_lists, ids[cancelled], cancel_on[cancelled])

    # --- measures ------------------------------------------------------------------------

    def _dm01_waiting(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        pts = self.patients
        test = FAMILY_TEST[pts.family]
        alive = ((pts.state <= P.BOOKED) & (test >= 0) & (pts.priority != PLANNED)
                 & (pts.received <= t) & ~((pts.state == P.BOOKED) & (pts.appt <= t)))
        ids = np.flatnonzero(alive)
        return ids, (t - pts.clock[ids]) // 7

    def _weekly(self, t: int) -> None:
        _, weeks = self._dm01_waiting(t)
        row = (t + 1) // 7 - self.inputs.warmup_weeks - 1
        self.result.weekly[row] = (len(weeks), int((weeks >= 6).sum()), int((weeks >= 13).sum()))

    def _finish(self) -> None:
        t = self.inputs.days - 1
        ids, weeks = self._dm01_waiting(t)
        pts = self.patients
        np.add.at(self.result.census, (pts.trust[ids], FAMILY_TEST[pts.family[ids]],
                                       np.minimum(weeks, 13)), 1)
        window = slice(self.warm_day, self.inputs.days)
        modality = np.tile(FAMILY_MODALITY, self.world.n_sites)
        site = np.repeat(np.arange(self.world.n_sites), N_FAMILIES)
        for name in ("planned", "lost"):
            per_group = getattr(self.calendar, name)[:, window].sum(axis=1)
            np.add.at(getattr(self.result, name), (site, modality), per_group)
