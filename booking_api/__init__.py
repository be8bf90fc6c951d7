"""The service: database tables and migrations, transactions (hold, book, cancel, move,
override), access, audit, REST and FHIR APIs, and the outbox. The only package that touches
the database."""
