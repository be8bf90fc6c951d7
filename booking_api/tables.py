"""Every table of the service, imported in one place so that `SQLModel.metadata` is complete
for migrations and tests. A new context adds its models module here."""

from __future__ import annotations

from sqlmodel import SQLModel

from booking_api.access import models as access
from booking_api.appointments import models as appointments
from booking_api.audit import models as audit
from booking_api.backfill import models as backfill
from booking_api.diary import models as diary
from booking_api.idempotency import models as idempotency
from booking_api.interop import models as interop
from booking_api.jobs import models as jobs
from booking_api.network import models as network
from booking_api.outbox import models as outbox
from booking_api.patients import contact_verification
from booking_api.patients import models as patients
from booking_api.questionnaires import models as questionnaires
from booking_api.requests import models as requests
from booking_api.requests import rules_models as request_rules
from booking_api.short_notice import models as short_notice
from booking_api.simulation import models as simulation
from booking_api.slots import models as slots

metadata = SQLModel.metadata

__all__ = ["access", "appointments", "audit", "backfill", "contact_verification", "diary",
           "idempotency", "interop", "jobs", "metadata", "network", "outbox", "patients",
           "questionnaires", "request_rules", "requests", "short_notice", "simulation", "slots"]
