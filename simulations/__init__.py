"""The synthetic history of a network (for backtests and benchmarks); the what-if engine,
its scenarios and KPI reports are planned (issue 19). May import `domain`, `slot_rules`,
`forecasting` and `optimiser`, never the database."""
