"""Appointments: a request placed in a slot, from hold to outcome."""
