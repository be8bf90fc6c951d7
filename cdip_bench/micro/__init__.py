"""Micro-benchmarks of the hot paths, under pytest-benchmark: slot eligibility over a slot
table, one slot search through the search index, one booking (hold, then book), one CP-SAT
sub-model, one demand-forecast fit.

They live beside the whole-system benchmarks because they measure the same things at a smaller
grain and build their inputs with the same world builders (`synthetic_slots`, `booking_data`,
the reference network); they need nothing from `tests/`. `make test` collects them with
`--benchmark-disable`, so each runs once as a smoke test of its workload (and its assertions
hold); `make bench` times them and compares with the last saved run (see the package docstring).
"""
