"""The patient pages (Jinja2, NHS.UK frontend). Calls booking_api's service layer, never the
database directly."""
