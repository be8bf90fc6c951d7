"""Slot search across the network: the in-memory slot index kept in step with the database,
the search a request's rules and the patient's choices narrow, and the offers pages show."""
