"""Write a synthetic history as the folder `domain.history` reads (see docs/history-schema.md).
Cells are formatted by arrow compute kernels and written by arrow's CSV writer: millions of rows
in seconds, and byte-identical for the same history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from domain.history import (
    APPOINTMENT_COLUMNS,
    APPOINTMENTS_FILE,
    DNA_PROBABILITY_COLUMNS,
    DNA_PROBABILITY_FILE,
    EXPECTED_DEMAND_COLUMNS,
    EXPECTED_DEMAND_FILE,
    META_FILE,
    PATIENT_COLUMNS,
    PATIENTS_FILE,
    REQUEST_COLUMNS,
    REQUESTS_FILE,
    TRUTH_DIR,
    BookingChannel,
    Outcome,
)
from domain.history_columns import HistoryColumn
from simulations.synthetic_history.demand import FAMILIES, PRIORITIES
from simulations.synthetic_history.dna_risk import DNA_COEFFICIENTS
from simulations.synthetic_history.generator import (
    GENERATOR_VERSION,
    StageReporter,
    SyntheticHistory,
)
from simulations.synthetic_history.patients import SEX_CODES
from simulations.synthetic_history.sites import MODALITIES

_CLOCK = pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)])


def write_history(history: SyntheticHistory, out: Path,
                  report: StageReporter = lambda stage: None) -> dict[str, int]:
    """Write every file; returns the rows written per file."""
    (out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    tables = {
        PATIENTS_FILE: (_patients, PATIENT_COLUMNS),
        REQUESTS_FILE: (_requests, REQUEST_COLUMNS),
        APPOINTMENTS_FILE: (_appointments, APPOINTMENT_COLUMNS),
        f"{TRUTH_DIR}/{DNA_PROBABILITY_FILE}": (_dna_probability,
                                                DNA_PROBABILITY_COLUMNS),
        f"{TRUTH_DIR}/{EXPECTED_DEMAND_FILE}": (_expected_demand,
                                                EXPECTED_DEMAND_COLUMNS),
    }
    written = {}
    for name, (build, schema) in tables.items():
        report(f"write {name}")
        written[name] = _write_csv(out / name, build(history), schema)
    meta = json.dumps(_meta(history), indent=2, sort_keys=True) + "\n"
    (out / TRUTH_DIR / META_FILE).write_text(meta, encoding="utf-8")
    return written


def _write_csv(path: Path, columns: dict[str, pa.Array], schema: Sequence[HistoryColumn]) -> int:
    table = pa.table({column.name: columns[column.name] for column in schema})
    options = pcsv.WriteOptions(quoting_style="none", quoting_header="none",
                                batch_size=1 << 16)
    pcsv.write_csv(table, path, options)
    return table.num_rows


def _patients(history: SyntheticHistory) -> dict[str, pa.Array]:
    referred = np.flatnonzero(history.patient_number >= 0)
    members = referred[np.argsort(history.patient_number[referred])]
    pool = history.pool
    decile = np.array([a.imd_decile for a in history.network.demand_areas])
    return {
        "patient_id": _ids("P", np.arange(len(members))),
        "birth_year": pa.array(pool.birth_year[members]),
        "sex": _codes(pool.sex[members], SEX_CODES),
        "area_id": _codes(pool.area[members], _area_ids(history)),
        "imd_decile": pa.array(decile[pool.area[members]]),
    }


def _requests(history: SyntheticHistory) -> dict[str, pa.Array]:
    r = history.requests
    planned = r.due_day >= 0
    return {
        "request_id": _ids("R", np.arange(len(r))),
        "patient_id": _ids("P", history.patient_number[history.request_patient]),
        "received_date": _dates(history, r.day),
        "exam_code": _codes(r.exam, [exam.code for exam in history.exams]),
        "exam_family": _codes(r.family, [f.value for f in FAMILIES]),
        "modality": _codes(r.family, [f.modality.value for f in FAMILIES]),
        "priority": _codes(r.priority, [p.value for p in PRIORITIES]),
        "area_id": _codes(r.area, _area_ids(history)),
        "due_date": _dates(history, np.where(planned, r.due_day, 0), mask=~planned),
    }


def _appointments(history: SyntheticHistory) -> dict[str, pa.Array]:
    a = history.appointments
    start_date = pc.cast(_dates(history, a.start_day), pa.string())
    family = history.requests.family[a.request]
    return {
        "appointment_id": _ids("A", np.arange(len(a.request))),
        "request_id": _ids("R", a.request),
        "patient_id": _ids("P", history.patient_number[a.patient]),
        "site_id": _codes(a.site, [site.site_id for site in history.network.sites]),
        "modality": _codes(family, [f.modality.value for f in FAMILIES]),
        "booked_date": _dates(history, a.booked_day),
        "start": pc.binary_join_element_wise(start_date, pc.take(_CLOCK, a.start_minute), "T"),
        "lead_time_days": pa.array(a.lead_days.astype(np.int64)),
        "age_years": pa.array(a.age_years.astype(np.int64)),
        "distance_km": pa.array(a.distance_km),
        "booking_channel": _codes(a.channel, [c.value for c in BookingChannel]),
        "sms_reminder": _codes(a.sms.astype(np.int8), ["no", "yes"]),
        "outcome": _codes(a.outcome, [o.value for o in Outcome]),
    }


def _dna_probability(history: SyntheticHistory) -> dict[str, pa.Array]:
    p = history.appointments.p_dna
    return {"appointment_id": _ids("A", np.arange(len(p))), "p_dna": pa.array(np.round(p, 6))}


def _expected_demand(history: SyntheticHistory) -> dict[str, pa.Array]:
    expected = history.expected_weekly
    week, family, area = (index.ravel() for index in np.indices(expected.shape))
    return {
        "week_start": _dates(history, week * 7),
        "exam_family": _codes(family, [f.value for f in FAMILIES]),
        "area_id": _codes(area, _area_ids(history)),
        "expected": pa.array(np.round(expected.ravel(), 6)),
    }


def _meta(history: SyntheticHistory) -> dict:
    settings, network = history.settings, history.network
    rooms = {m.value: sum(1 for r in network.rooms if r.modality is m) for m in MODALITIES}
    return {
        "generator": "simulations.synthetic_history",
        "generator_version": GENERATOR_VERSION,
        "seed": settings.seed, "weeks": settings.weeks, "scale": settings.scale,
        "start": settings.start.isoformat(),
        "end": str(history.calendar.dates[history.calendar.history_days]),
        "network": {"sites": len(network.sites), "rooms": len(network.rooms),
                    "rooms_by_modality": rooms, "demand_areas": len(network.demand_areas)},
        "dna_model": DNA_COEFFICIENTS.as_dict(),
    }


def _ids(prefix: str, numbers: np.ndarray, width: int = 8) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _codes(index: np.ndarray, names: Sequence[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(index, np.int32)),
                                          pa.array(list(names), pa.string()))


def _dates(history: SyntheticHistory, day: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    epoch_day = (history.settings.start - date(1970, 1, 1)).days
    values = pa.array(np.asarray(day, np.int64) + epoch_day, pa.int64(), mask=mask)
    return pc.cast(pc.cast(values, pa.int32()), pa.date32())


def _area_ids(history: SyntheticHistory) -> list[str]:
    return [area.area_id for area in history.network.demand_areas]
