"""Alembic migrations of the service database (run through `cdip db`)."""
