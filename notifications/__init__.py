"""SMS (Twilio), email (SMTP) and calendar invites (iCalendar): message templates, delivery
and replies. Imports only `domain`; retries belong to the outbox worker, not here."""
