"""The composition root: builds the running web application from the service
(`booking_api`), the pages (`patient_portal`, and the staff console to come) and the
background jobs that run inside the web process. Nothing imports this package but the
`cdip` command and tests."""
