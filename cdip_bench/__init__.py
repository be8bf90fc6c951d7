"""Every benchmark of the project, at two grains, and the synthetic worlds they run on.

It sits at the top of the house, just under `cdip_cli`: it may import every package but the CLI
(an import-linter layer), and nothing imports it but the tests; the CLI reaches its functions by
name through the `BENCHMARKS` registry.

Whole-system benchmarks, run as `cdip bench NAME [--json]`: functions returning a dict of
figures, each figure beside the baseline it is judged against, measured in the same run.

- `eligibility`: one request filtered against six weeks of network slots (`synthetic_slots`),
  against the slot-by-slot reference.
- `diary`: a week of the whole network planned by CP-SAT and by two baselines (the greedy, and
  the reach greedy that plans each site for all demand within the travel limit).
- `plan`: six weeks of one system's diaries planned from the forecast, seasonal naive and the
  truth (and the forecast with urgent capacity to an upper quantile), then the requests that
  really came replayed against each: unmet, breaches, regret.
- `repair`: five disruptions of a full two-week diary of the network (`repair_world`: a room for a
  day at a stand-alone site and in the city, an MRI room for a week, a site's radiographers 30 %
  short, a CDC closed), repaired against the targets, and the smallest against the exact
  optimum of the complete model.
- `reports`: a month's figures for managers and the DM01 and DID returns over a 104-week
  synthetic history at full scale (~10 M appointments), beside a sort of the event log.
- `booking`: search and booking over HTTP against a real server on a scratch database filled
  by `booking_data` (`booking_client` is its load generator), with double-booking counts.

Adding one is a one-line change: write the function here (its keyword parameters, typed, with
defaults, become the command's options), then add `"name": "cdip_bench.module:function"` to
`BENCHMARKS` in `cdip_cli/bench_commands.py`.

Micro-benchmarks of the hot paths, in `micro/` under pytest-benchmark: slot eligibility over a
slot table, one search through the loaded index, one booking (hold, then book), one CP-SAT
sub-model, one forecast fit. `make bench` times them, saves the run under `.benchmarks/` and
compares it with the last saved run (`make bench BENCH_BASELINE=0001` with a chosen one),
failing when a median is more than `BENCH_SLOWER` (30 %) slower; the first run on a machine
only saves a baseline. `make test` runs each once, untimed. A new one is a `test_*.py` in
`micro/` taking the `benchmark` fixture, with inputs built once in a module-scoped fixture.
"""
