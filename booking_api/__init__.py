"""The service: the only package that touches the database. Tables and migrations,
transactions (hold, book, cancel, move, block, override), access, audit, idempotency and the
JSON API, one sub-package per context. Contexts depend one way, lowest first: core, api,
audit, network, patients, requests, idempotency, access, vetting, slots, appointments,
search, diary, short_notice, demo (an import-linter contract in pyproject.toml keeps it so;
docs/architecture.md explains each). `database` opens the database, `routers` hands the API
to the composition root (`cdip_web`), and `tables` gathers every table for migrations."""
