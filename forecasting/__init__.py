"""Forecasts of weekly demand per exam family and area, and the DNA (no-show) risk model, with
their backtests. Imports only `domain`."""
