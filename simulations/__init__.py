"""The synthetic history of a network (for backtests and benchmarks) and the what-if engine
(`simulations.whatif`: scenarios, replications, managers' figures; docs/what-if.md). May
import `domain`, `slot_rules`, `forecasting`, `optimiser` and `reporting`, never the
database."""
