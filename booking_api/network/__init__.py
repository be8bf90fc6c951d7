"""The imaging network as database rows: a mirror of the reference data in `domain`."""
