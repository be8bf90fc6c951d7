"""The Slot resource is not validated as it is built (a search sends up to 500), so its one
shape is validated here with fhir.resources, for every status and modality."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.slot import Slot as FhirSlot

from booking_api.interop.fhir.resources import slot_resource
from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus
from domain.vocabulary import Modality


@pytest.mark.parametrize("status", list(SlotStatus))
@pytest.mark.parametrize("modality", list(Modality))
def test_every_slot_is_a_valid_fhir_slot(status: SlotStatus, modality: Modality) -> None:
    slot = Slot(id=41, session_id=1, room_id="UHB-QEH-MR1", site_id="UHB-QEH",
                modality=modality, start_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
                end_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), families="MHEAD",
                status=status)

    resource = FhirSlot.model_validate(slot_resource(slot))

    assert resource.status == status.value and resource.id == "41"
    assert resource.schedule.reference == "Schedule/UHB-QEH-MR1"
    assert resource.serviceType[0].coding[0].code == modality.value
