"""Staff pages (planned, issue 16: empty today): the clerks' worklist, vetting, diary views,
overrides, booking on a patient's behalf; later the managers' what-if and dashboards. Will
call booking_api's flows and read models only, like the patient portal."""
