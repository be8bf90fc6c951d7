"""Diaries in the database: writing a planned week's sessions and slots (protecting what is
already booked), building coming weeks with the optimiser, a site's day, and blocking or
withdrawing slots."""
