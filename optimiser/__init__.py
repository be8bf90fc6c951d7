"""CP-SAT diary build and repair, slot generation, batch assignment and backfill candidate
ranking. Imports only `domain` and `slot_rules`."""
