"""Double submission of portal forms: the shared form idempotency (`pages_common.once`),
keys scoped to the signed-in patient."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from pages_common.once import submit_once as submit_once_for
from patient_portal.signed_in import PortalPatient


def submit_once(request: Request, patient: PortalPatient, form: Mapping[str, str], *,
                success: str, action: Callable[[], Response]) -> Response:
    """Run `action` once for this form's key and patient; a resend goes on to `success`."""
    return submit_once_for(request, patient.principal.subject, form, success=success,
                           action=action)
