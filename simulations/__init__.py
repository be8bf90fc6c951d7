"""What-if engine, scenarios, KPI reports and the synthetic history of a network. Imports
`domain`, `slot_rules`, `forecasting` and `optimiser`, never the database."""
