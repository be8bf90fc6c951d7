import numpy as np
import pandas as pd

from forecasting.weekly_series import expected_panel, weekly_panel


def _requests(dates: list[str], family: str = "CT_PLAIN", area: str = "B1") -> pd.DataFrame:
    return pd.DataFrame({"received_date": pd.to_datetime(dates), "exam_family": family,
                         "area_id": area})


def test_weeks_the_history_starts_inside_are_left_out():
    # Wednesday 3 Jan 2024 starts the history: that week is partial, so weeks begin on 8 Jan.
    panel = weekly_panel(_requests(["2024-01-03", "2024-01-08", "2024-01-09", "2024-01-19"]))
    assert [str(w.date()) for w in panel.weeks] == ["2024-01-08", "2024-01-15"]
    assert panel.counts.tolist() == [[2.0, 1.0]]


def test_a_final_week_that_reaches_friday_counts_and_one_that_does_not_is_dropped():
    reaching_friday = weekly_panel(_requests(["2024-01-08", "2024-01-19"]))
    stopping_wednesday = weekly_panel(_requests(["2024-01-08", "2024-01-17"]))
    assert reaching_friday.n_weeks == 2
    assert stopping_wednesday.n_weeks == 1


def test_weeks_without_requests_count_zero_for_every_series():
    frame = pd.concat([_requests(["2024-01-08", "2024-01-26"]),
                       _requests(["2024-01-17"], family="MR_NEURO", area="B2")])
    panel = weekly_panel(frame)
    assert list(zip(panel.families, panel.areas, strict=True)) == [("CT_PLAIN", "B1"),
                                                                  ("MR_NEURO", "B2")]
    assert panel.counts.tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]


def test_expected_demand_is_aligned_to_the_panel_series_and_weeks():
    panel = weekly_panel(_requests(["2024-01-08", "2024-01-19"]))
    truth = pd.DataFrame({"week_start": pd.to_datetime(["2024-01-15", "2024-01-08"]),
                          "exam_family": "CT_PLAIN", "area_id": "B1", "expected": [3.5, 2.5]})
    assert np.array_equal(expected_panel(truth, panel), [[2.5, 3.5]])
