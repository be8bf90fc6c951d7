"""Diaries: the sessions a room runs and the bookable slots inside them."""
