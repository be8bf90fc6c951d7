"""Messages to patients (planned, issue 14: empty today): SMS through Twilio, email through
SMTP with calendar invites (iCalendar), their templates, delivery and replies. Will import
only `domain`; retries will belong to the service's outbox worker, not here."""
