"""The DM01 and DID returns: their column layouts against the specifications (transcribed here
independently of the code), counts against a hand-worked month, and every examination either
reported or listed with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from reporting.did import did_return
from reporting.dm01 import dm01_return
from reporting.layouts import DID, DM01, layout_problems
from reporting.london import Month
from reporting.record import prepare
from tests.reporting.test_waiting_list import _world
from tests.reporting.world import World

MARCH = Month.parse("2025-03")

# DM01: provider, test, weeks-waited bands 0 <01 ... 12 <13 and 13+, totals, then activity
# (guidance on completing the monthly diagnostics collection, sections 1 and 2).
DM01_SPECIFICATION = [
    "Period", "Provider Org Code", "Provider Org Name", "Diagnostic Test Name",
    "0 <01 Week", "01 <02 Weeks", "02 <03 Weeks", "03 <04 Weeks", "04 <05 Weeks",
    "05 <06 Weeks", "06 <07 Weeks", "07 <08 Weeks", "08 <09 Weeks", "09 <10 Weeks",
    "10 <11 Weeks", "11 <12 Weeks", "12 <13 Weeks", "13+ Weeks", "Total Waiting List",
    "Waiting 6+ Weeks", "Waiting 13+ Weeks", "Percentage Waiting 6+ Weeks",
    "Waiting List Activity", "Planned Activity", "Unscheduled Activity", "Total Activity"]
# DIDS v1.0 XML schema: PersonalAndDemographics, Referrals, ImagingActivity, in order.
DID_SPECIFICATION = [
    "NHSNumber", "NHSNumberStatus", "PersonBirthDate", "EthnicCategory", "PersonGenderCode",
    "Address", "GPCodeRegistration", "PatientSourceSetting", "ReferrerCode", "ReferringOrgCode",
    "DiagnosticTestReqDate", "DiagnosticTestReqRecDate", "ImagingCodeNICIP",
    "ImagingCodeSNOMEDCT", "DiagnosticTestDate", "ServiceReportIssueDate", "ImagingSiteCode",
    "RadiologicalAccessionNumber"]


def _dm01_world() -> World:
    """The waiting-list world plus tests done in March: an MRI from the waiting list and a
    planned MRI at site S1 (trust T1), an A&E CT at S1, an ultrasound at S2 (trust T2) for a T1
    request, and a chest X-ray (not in DM01)."""
    world, _ = _world()
    for exam, room, priority, source in [("MKNEE", "R-MR", "routine", "04"),
                                         ("MKNEE", "R-MR", "planned", "04"),
                                         ("CHEAD", "R-CT", "urgent", "05"),
                                         ("UABDO", "R-US", "routine", "03"),
                                         ("XCHES", "R-XR", "routine", "04")]:
        request = world.request(exam, "2025-03-03 09:00", priority=priority, source=source,
                                states=[("2025-03-12 09:00", "attended")])
        world.appointment(request, room, "2025-03-12 09:00", 20, "attended",
                          booked="2025-03-04 09:00")
    return world


def _row(rows: pd.DataFrame, provider: str, test: str) -> pd.Series:
    return rows[(rows["Provider Org Code"] == provider)
                & (rows["Diagnostic Test Name"] == test)].iloc[0]


def test_dm01_layout_is_the_published_one() -> None:
    assert DM01.names == DM01_SPECIFICATION
    returned = dm01_return(prepare(_dm01_world().inputs()), MARCH)
    assert list(returned.rows.columns) == DM01_SPECIFICATION
    assert layout_problems(returned.rows, DM01) == []


def test_dm01_has_a_row_per_provider_and_test_zeros_included() -> None:
    rows = dm01_return(prepare(_dm01_world().inputs()), MARCH).rows
    assert len(rows) == 2 * 3  # two trusts x MRI, CT, non-obstetric ultrasound
    assert _row(rows, "RBB", "Magnetic Resonance Imaging")["Total Activity"] == 0


def test_dm01_waiting_list_bands_match_the_hand_count() -> None:
    rows = dm01_return(prepare(_dm01_world().inputs()), MARCH).rows
    ct = _row(rows, "RAA", "Computed Tomography")
    assert (ct["0 <01 Week"], ct["03 <04 Weeks"], ct["05 <06 Weeks"]) == (1, 1, 1)
    assert ct["Total Waiting List"] == 3
    us = _row(rows, "RBB", "Non-obstetric Ultrasound")
    assert (us["11 <12 Weeks"], us["Waiting 6+ Weeks"], us["Percentage Waiting 6+ Weeks"]) == (
        1, 1, 100.0)
    mri = _row(rows, "RAA", "Magnetic Resonance Imaging")
    assert (mri["Total Waiting List"], mri["Waiting 6+ Weeks"]) == (2, 1)
    assert mri["Percentage Waiting 6+ Weeks"] == 50.0


def test_dm01_activity_splits_waiting_list_planned_and_unscheduled_by_performing_provider(
        ) -> None:
    returned = dm01_return(prepare(_dm01_world().inputs()), MARCH)
    mri = _row(returned.rows, "RAA", "Magnetic Resonance Imaging")
    assert (mri["Waiting List Activity"], mri["Planned Activity"], mri["Total Activity"]) == (
        1, 1, 2)
    assert _row(returned.rows, "RAA", "Computed Tomography")["Unscheduled Activity"] == 1
    assert _row(returned.rows, "RBB", "Non-obstetric Ultrasound")["Waiting List Activity"] == 1
    assert returned.counts_left_out["attended examinations not in a DM01 test (plain X-ray, "
                                    "fluoroscopy, obstetric ultrasound)"] == 1


def test_dm01_counts_what_it_leaves_off_the_waiting_list() -> None:
    left = dm01_return(prepare(_dm01_world().inputs()), MARCH).counts_left_out
    assert left["open requests not in a DM01 test"] == 2  # the chest X-ray and obstetric scan
    assert left["open planned requests (DM01 excludes planned tests)"] == 1
    assert left["open unscheduled requests (inpatient or A&E)"] == 1


def _did_world() -> tuple[World, dict[str, int]]:
    """Attended MRI knees (SNOMED CT coded) in March at site S1, one at S2, with one thing
    wrong with each of several."""
    w = World()
    ids = {}

    def seen(name: str, room: str = "R-MR", exam: str = "MKNEE", accession: str | None = None,
             **patient: object) -> None:
        person = w.patient(**patient)
        request = w.request(exam, "2025-03-03 09:00", patient=person, states=[
            ("2025-03-12 09:00", "attended"), ("2025-03-13 15:30", "reported")])
        ids[name] = w.appointment(request, room, "2025-03-12 09:00", 20, "attended",
                                  booked="2025-03-04 09:00", accession=accession)

    seen("good")
    seen("no_nhs_number", nhs_number=None)
    seen("bad_check_digit", nhs_number="9434765918")
    seen("uncoded_exam", exam="CHEAD", room="R-CT")
    seen("repeated_accession", accession="ACC000001")
    seen("bad_postcode", postcode="NOT A POSTCODE")
    seen("site_without_code", room="R-US", exam="UABDO")
    return w, ids


def test_did_layout_is_the_published_one() -> None:
    world, _ = _did_world()
    returned = did_return(prepare(world.inputs()), MARCH)
    assert DID.names == DID_SPECIFICATION
    assert list(returned.rows.columns) == DID_SPECIFICATION
    assert layout_problems(returned.rows, DID) == []


def test_did_record_carries_the_examination_and_its_codes() -> None:
    world, _ = _did_world()
    row = did_return(prepare(world.inputs()), MARCH).rows.iloc[0]
    assert pd.isna(row.ImagingCodeNICIP)  # no NICIP codes are held (licensed, see README)
    assert row.drop("ImagingCodeNICIP").to_dict() == {
        "NHSNumber": "9434765919", "NHSNumberStatus": "01", "PersonBirthDate": "1970-05-17",
        "EthnicCategory": "A", "PersonGenderCode": "2", "Address": "B15 2TH",
        "GPCodeRegistration": "M85001", "PatientSourceSetting": "04",
        "ReferrerCode": "G1234567", "ReferringOrgCode": "M85001",
        "DiagnosticTestReqDate": "2025-03-03", "DiagnosticTestReqRecDate": "2025-03-03",
        "ImagingCodeSNOMEDCT": "241641004",
        "DiagnosticTestDate": "2025-03-12", "ServiceReportIssueDate": "2025-03-13",
        "ImagingSiteCode": "RAA01", "RadiologicalAccessionNumber": "ACC000001"}


@pytest.mark.parametrize(("name", "reason"), [
    ("no_nhs_number", "no NHS number"),
    ("bad_check_digit", "NHS number fails the modulus 11 check"),
    ("uncoded_exam", "the exam has neither a NICIP nor a SNOMED CT code in the catalogue"),
    ("repeated_accession", "accession number already used by another examination this month"),
])
def test_did_lists_an_examination_it_cannot_report_with_the_reason(name: str,
                                                                   reason: str) -> None:
    world, ids = _did_world()
    exceptions = did_return(prepare(world.inputs()), MARCH).exceptions.set_index(
        "appointment_id")
    assert exceptions.loc[ids[name], "reasons"] == reason


def test_did_reports_or_lists_every_examination_of_the_month() -> None:
    world, ids = _did_world()
    returned = did_return(prepare(world.inputs()), MARCH)
    assert len(returned.rows) + len(returned.exceptions) == len(ids)
    assert len(returned.rows) == 3  # good, bad_postcode (blanked) and site_without_code


def test_did_blanks_a_malformed_optional_item_and_says_so() -> None:
    world, _ = _did_world()
    returned = did_return(prepare(world.inputs()), MARCH)
    assert returned.rows.Address.isna().sum() == 1
    assert "1 record(s) with a malformed postcode: left blank" in returned.warnings


def test_did_reports_a_site_without_an_ods_code_under_its_trust_and_warns() -> None:
    world, _ = _did_world()
    returned = did_return(prepare(world.inputs()), MARCH)
    assert "RBB" in set(returned.rows.ImagingSiteCode)
    assert any("no ODS site code for 1 site(s) (S2)" in w for w in returned.warnings)


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("NHSNumber", "123", "NHSNumber: '123' in row 0 breaks the rule"),
    ("PatientSourceSetting", None, "PatientSourceSetting: blank in row 0"),
    ("DiagnosticTestDate", "12/03/2025", "DiagnosticTestDate: '12/03/2025' in row 0"),
    ("ImagingSiteCode", "UHB-QE", "ImagingSiteCode: 'UHB-QE' in row 0"),
])
def test_layout_check_names_the_column_and_row_a_cell_breaks(column: str, value: object,
                                                             expected: str) -> None:
    world, _ = _did_world()
    rows = did_return(prepare(world.inputs()), MARCH).rows.copy()
    rows.loc[0, column] = value
    assert any(problem.startswith(expected) for problem in layout_problems(rows, DID))


def test_layout_check_refuses_columns_out_of_order() -> None:
    rows = dm01_return(prepare(_dm01_world().inputs()), MARCH).rows
    swapped = rows[[*DM01_SPECIFICATION[1:], DM01_SPECIFICATION[0]]]
    assert layout_problems(swapped, DM01)[0].startswith("columns are")
