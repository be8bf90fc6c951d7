"""Idempotency-Key on POST (Stripe's design): the first response per (actor, key) is
stored and replayed; see `booking_api.idempotency.route` for how a router opts in."""
