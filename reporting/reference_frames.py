"""The reference frames (rooms, sites, trusts, areas, exams) built from the domain's network
and exam catalogue, as every caller of the engine needs them. ODS codes are not part of the
network files, so `site_code` and `org_code` stay blank unless a mapping is given; the returns
then fall back to the network's own ids and say so."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from domain.exam_coding import ExamCoding, exam_coding
from domain.exams import ExamType, exam_catalogue
from domain.network import Network


def organisation_frames(network: Network, ods_codes: Mapping[str, str] | None = None
                        ) -> dict[str, pd.DataFrame]:
    """rooms, sites, trusts and areas; `ods_codes` maps trust and site ids to ODS codes."""
    codes = dict(ods_codes or {})
    return {
        "rooms": pd.DataFrame({
            "room_id": [r.room_id for r in network.rooms],
            "site_id": [r.site_id for r in network.rooms],
            "modality": [r.modality.value for r in network.rooms]}),
        "sites": pd.DataFrame({
            "site_id": [s.site_id for s in network.sites],
            "name": [s.name for s in network.sites],
            "trust_id": [s.trust_id for s in network.sites],
            "site_code": pd.Series([codes.get(s.site_id) for s in network.sites], dtype="str")}),
        "trusts": pd.DataFrame({
            "trust_id": [t.trust_id for t in network.trusts],
            "name": [t.name for t in network.trusts],
            "ics_id": [t.ics_id for t in network.trusts],
            "org_code": pd.Series([codes.get(t.trust_id) for t in network.trusts], dtype="str")}),
        "areas": pd.DataFrame({
            "area_id": [a.area_id for a in network.demand_areas],
            "ics_id": [a.ics_id for a in network.demand_areas]}),
    }


def exam_frame(catalogue: Mapping[str, ExamType] | None = None,
               coding: Mapping[str, ExamCoding] | None = None) -> pd.DataFrame:
    """The exams frame: catalogue facts plus national codes (blank when uncoded)."""
    catalogue = exam_catalogue() if catalogue is None else catalogue
    coding = exam_coding() if coding is None else coding
    exams = list(catalogue.values())
    return pd.DataFrame({
        "code": [e.code for e in exams],
        "modality": [e.modality.value for e in exams],
        "family": [e.family.value for e in exams],
        "duration_min": [e.duration_min for e in exams],
        "relative_frequency": [e.relative_frequency for e in exams],
        "snomed_ct_code": pd.Series([_attr(coding, e.code, "snomed_ct_code") for e in exams],
                                    dtype="str"),
        "nicip_code": pd.Series([_attr(coding, e.code, "nicip_code") for e in exams],
                                dtype="str"),
    })


def _attr(coding: Mapping[str, ExamCoding], code: str, name: str) -> str | None:
    entry = coding.get(code)
    return None if entry is None else getattr(entry, name)
