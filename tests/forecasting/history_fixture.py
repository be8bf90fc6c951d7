"""A small synthetic history in the agreed schema, written by the tests themselves so the models
can be checked against effects we planted: weekly demand with a seasonal swing, a trend and fewer
requests in weeks with bank holidays; DNA risk that rises with lead time and with prior DNAs."""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

FAMILIES = {"XR_PLAIN": "XR", "US_ABDO_PELVIS": "US", "CT_PLAIN": "CT", "MR_NEURO": "MR"}
FAMILY_RATE = {"XR_PLAIN": 30.0, "US_ABDO_PELVIS": 12.0, "CT_PLAIN": 5.0, "MR_NEURO": 2.0}
PRIORITIES = ("two_week_wait", "urgent", "routine", "planned")
PRIORITY_MIX = (0.1, 0.2, 0.6, 0.1)
SITES = {"XR": "S1", "US": "S1", "CT": "S2", "MR": "S3"}
BANK_HOLIDAY_FACTOR = 0.8  # a week with one bank holiday gets 80 % of a normal week's requests


@dataclass(frozen=True)
class FixtureSpec:
    weeks: int = 104
    areas: int = 8
    patients_per_area: int = 600
    seed: int = 7
    start: date = date(2024, 1, 1)  # a Monday


def write_history(directory: Path, spec: FixtureSpec = FixtureSpec()) -> Path:
    """Write patients, requests, appointments and truth files; returns the folder."""
    rng = np.random.default_rng(spec.seed)
    directory.mkdir(parents=True, exist_ok=True)
    patients = _patients(spec, rng)
    requests, expected = _requests(spec, patients, rng)
    appointments, p_dna = _appointments(requests, patients, rng)
    patients.to_csv(directory / "patients.csv", index=False)
    requests.to_csv(directory / "requests.csv", index=False)
    appointments.to_csv(directory / "appointments.csv", index=False)
    (directory / "truth").mkdir(exist_ok=True)
    p_dna.to_csv(directory / "truth" / "dna_probability.csv", index=False)
    expected.to_csv(directory / "truth" / "expected_demand.csv", index=False)
    meta = {"generator": "tests fixture", "seed": spec.seed, "weeks": spec.weeks,
            "start": spec.start.isoformat(), "scale": 1.0}
    (directory / "truth" / "meta.json").write_text(json.dumps(meta))
    return directory


def area_ids(spec: FixtureSpec) -> list[str]:
    return [f"B{n + 1}" for n in range(spec.areas)]


def _patients(spec: FixtureSpec, rng: np.random.Generator) -> pd.DataFrame:
    areas = np.repeat(area_ids(spec), spec.patients_per_area)
    count = len(areas)
    return pd.DataFrame({
        "patient_id": [f"P{n:06d}" for n in range(count)],
        "birth_year": rng.integers(1935, 2015, count),
        "sex": rng.choice(["F", "M"], count),
        "area_id": areas,
        "imd_decile": rng.integers(1, 11, count),
    })


def _weekly_expected(spec: FixtureSpec) -> pd.DataFrame:
    import holidays

    years = range(spec.start.year, spec.start.year + spec.weeks // 52 + 2)
    bank = set(holidays.country_holidays("GB", subdiv="ENG", years=years))
    rows = []
    for area_index, area in enumerate(area_ids(spec)):
        size = 0.5 + area_index / spec.areas
        for week in range(spec.weeks):
            monday = spec.start + timedelta(weeks=week)
            in_week = sum((monday + timedelta(days=d)) in bank for d in range(5))
            season = 1 + 0.15 * np.sin(2 * np.pi * week / 52.18)
            trend = 1 + 0.002 * week
            calendar = BANK_HOLIDAY_FACTOR ** in_week
            for family, rate in FAMILY_RATE.items():
                rows.append((monday.isoformat(), family, area,
                             rate * size * season * trend * calendar))
    return pd.DataFrame(rows, columns=["week_start", "exam_family", "area_id", "expected"])


def _requests(spec: FixtureSpec, patients: pd.DataFrame,
              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    expected = _weekly_expected(spec)
    counts = rng.poisson(expected["expected"].to_numpy())
    rows = expected.loc[expected.index.repeat(counts)].reset_index(drop=True)
    day = rng.integers(0, 5, len(rows))
    received = pd.to_datetime(rows["week_start"]) + pd.to_timedelta(day, unit="D")
    by_area = patients.groupby("area_id")["patient_id"].apply(np.array).to_dict()
    patient = [by_area[a][rng.integers(0, len(by_area[a]))] for a in rows["area_id"]]
    requests = pd.DataFrame({
        "request_id": [f"R{n:07d}" for n in range(len(rows))],
        "patient_id": patient,
        "received_date": received.dt.strftime("%Y-%m-%d"),
        "exam_code": rows["exam_family"].str[:2] + "X",
        "exam_family": rows["exam_family"],
        "modality": rows["exam_family"].map(FAMILIES),
        "priority": rng.choice(PRIORITIES, len(rows), p=PRIORITY_MIX),
        "area_id": rows["area_id"],
        "due_date": "",
    })
    return requests, expected


def _appointments(requests: pd.DataFrame, patients: pd.DataFrame,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Book each request; a first DNA is rebooked once. DNA risk depends on lead time and prior DNAs
    known at booking, so the planted effects are exactly the ones the model must find."""
    imd = patients.set_index("patient_id")["imd_decile"]
    birth = patients.set_index("patient_id")["birth_year"]
    order = requests.sort_values("received_date")
    queue = [(date.fromisoformat(r.received_date), False, n, r.request_id, r.patient_id,
              r.modality) for n, r in enumerate(order.itertuples())]
    heapq.heapify(queue)
    history: dict[str, list[tuple[date, bool]]] = {}
    rows, truth = [], []
    while queue:
        booked, rebooked, tie, request_id, patient_id, modality = heapq.heappop(queue)
        lead = int(rng.integers(0, 43))
        start = booked + timedelta(days=lead)
        while start.weekday() >= 5:
            start += timedelta(days=1)
        lead = (start - booked).days
        prior = sum(dna for when, dna in history.get(patient_id, []) if when < booked)
        sms = bool(rng.random() < 0.6)
        logit = (-3.3 + 0.04 * lead + 0.9 * min(prior, 3) - 0.4 * sms
                 + 0.06 * (5 - imd[patient_id]))
        p = 1 / (1 + np.exp(-logit))
        cancelled = rng.random() < 0.05
        dna = (not cancelled) and rng.random() < p
        outcome = "cancelled_patient" if cancelled else ("dna" if dna else "attended")
        appointment_id = f"A{len(rows):07d}"
        rows.append((appointment_id, request_id, patient_id, SITES[modality], modality,
                     booked.isoformat(), f"{start.isoformat()}T{9 + lead % 8:02d}:00", lead,
                     start.year - int(birth[patient_id]), round(float(rng.uniform(1, 30)), 1),
                     rng.choice(["portal", "clerk", "letter"]), "yes" if sms else "no", outcome))
        truth.append((appointment_id, round(float(p), 6)))
        if outcome != "cancelled_patient":
            history.setdefault(patient_id, []).append((start, dna))
        if dna and not rebooked:
            heapq.heappush(queue, (start + timedelta(days=1), True, tie, request_id, patient_id,
                                   modality))
    columns = ["appointment_id", "request_id", "patient_id", "site_id", "modality", "booked_date",
               "start", "lead_time_days", "age_years", "distance_km", "booking_channel",
               "sms_reminder", "outcome"]
    return (pd.DataFrame(rows, columns=columns),
            pd.DataFrame(truth, columns=["appointment_id", "p_dna"]))
