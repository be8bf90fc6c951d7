"""Staff pages under /staff (issue 16): sign-in by role, the clerks' worklist across the
network, the vetting queue, a request's record with facts, overrides and audit trail,
booking on a patient's behalf, a site's diary with blocking, and requests entered by hand.
They call booking_api's flows and read models only, with the portal's protections
(`pages_common`)."""
