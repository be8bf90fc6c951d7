"""The forecasting commands run on the forecasting tests' synthetic history, on one thread."""

from tests.forecasting.conftest import history_dir, one_thread

__all__ = ["history_dir", "one_thread"]  # fixtures
