"""The fuzz's request builder: hostile values written the way a hostile client writes them,
one target replaced at a time, forms read off the page."""

from __future__ import annotations

import math

from booking_api.core.config import Settings
from cdip_bench.fuzz_api import Ids, Operation, Target, operations_of
from cdip_bench.fuzz_inputs import json_body, url_text
from cdip_bench.fuzz_portal import forms_on
from cdip_web.app import create_app

IDS = Ids(request_id=3, slot_id=5, appointment_id=7, patient_id=2, held_order_id=1,
          message_id=1, room_id="R1", username="someone", booking_reference="REF",
          date_of_birth="1960-05-17")


def test_json_keeps_surrogates_escaped_and_nan_bare() -> None:
    assert json_body({"a": "\ud800", "b": math.nan}) == b'{"a": "\\ud800", "b": NaN}'


def test_a_url_carries_a_surrogate_as_its_raw_bytes() -> None:
    assert url_text("\ud800") == "%ED%A0%80"
    assert url_text("a\x00") == "a%00"


def test_every_leaf_of_a_body_is_a_target_and_is_replaced_alone(tmp_path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}",
                              environment="test"))
    operations = {op.name: op for op in operations_of(app.openapi(), IDS)}
    booking: Operation = operations["POST /api/staff/bookings"]

    assert Target("body", ("overrides", 0, "reason")) in booking.targets
    call = booking.call({}, {Target("body", ("reason",)): "\x00"})
    assert b'"reason": "\\u0000"' in call.content and b'"request_id": 3' in call.content
    assert len(operations) >= 50


def test_forms_are_read_with_their_fields_and_values() -> None:
    page = ('<form method="post" action="/cancel" novalidate><input type="hidden" '
            'name="csrf_token" value="t"><input name="reason" type="radio" value="a">'
            '<textarea name="reason-details"></textarea></form>'
            '<form method="get" action="/x"><input name="q"></form>')

    [form] = forms_on(page, "booked")

    assert form.action == "/cancel"
    assert form.fields == (("csrf_token", "t"), ("reason", "a"), ("reason-details", ""))
