"""Staff pages: clerk worklist, diary views, overrides, managers' what-if and dashboards.
Calls booking_api's service layer and simulations."""
