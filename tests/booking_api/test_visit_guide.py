"""Where and when to go (issue 17, item 11): the arrival time comes from the catalogue per
exam (an hour early for contrast CT), the address from the site's visit details."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_api.appointments.read_models import AppointmentView, PatientBooking
from booking_api.appointments.visit_guide import visit_guide
from booking_api.network.directory import ExamDetails, SiteDetails
from domain.exams import exam_catalogue
from domain.lifecycle import AppointmentState, RequestState
from domain.site_visits import site_visits

START = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def _booking(code: str, site_id: str = "UHB-HGH") -> PatientBooking:
    exam = exam_catalogue()[code]
    site = SiteDetails(site_id, "Heartlands Hospital", "B9", False, True, "Car park",
                       "Buses", lat=52.479, lon=-1.8295, visit=site_visits().get(site_id))
    return PatientBooking(
        request_id=1, reference="X", request_state=RequestState.APPOINTED,
        exam=ExamDetails(code, exam.name, exam.duration_min, exam.preparation,
                         exam.fasting_hours, exam.contrast),
        appointment=AppointmentView(1, AppointmentState.BOOKED, START, START, None, False),
        site=site)


@pytest.mark.parametrize(("code", "minutes"), [("CABPC", 60), ("XCHES", 10)])
def test_arrival_comes_from_the_catalogue_per_exam(code: str, minutes: int) -> None:
    guide = visit_guide(_booking(code))
    assert guide is not None and guide.arrive_minutes_early == minutes
    assert (START - guide.arrive_at).total_seconds() == minutes * 60


def test_the_guide_gives_the_full_address_phone_and_department() -> None:
    guide = visit_guide(_booking("CABPC"))
    assert guide.address_lines == ("Heartlands Hospital", "Bordesley Green East", "Birmingham",
                                   "B9 5SS")
    assert guide.phone == "0121 496 0102" and "Radiology department" in guide.report_to
    assert guide.map_link and "mlat=52.47900" in guide.map_link
    assert "cannula" in guide.during_the_test


def test_a_site_without_visit_details_still_gets_its_name_and_district() -> None:
    guide = visit_guide(_booking("XCHES", site_id="NOT-ON-FILE"))
    assert guide.address_lines == ("Heartlands Hospital", "B9")
    assert guide.map_link is None and guide.phone is None
