"""The made-up diaries the eligibility benchmark is measured on."""

import numpy as np

from cdip_bench.synthetic_slots import free_run_minutes


def test_free_run_counts_consecutive_free_minutes_to_the_next_booking_or_session_end():
    length = np.array([10, 10, 10, 10, 20, 20, 20])
    booked = np.array([False, False, True, False, False, False, True])
    last = np.array([False, False, False, True, False, False, True])
    assert free_run_minutes(length, booked, last).tolist() == [20, 10, 0, 10, 40, 20, 0]
