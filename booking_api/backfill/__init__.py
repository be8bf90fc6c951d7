"""Backfill: every freed slot offered, in waves, to the waiting patients who need it most;
the first valid acceptance books it through the booking service; cascades; the offer trail."""
