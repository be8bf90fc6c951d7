"""The reference network's calibrated capacity per trust (`calibration.calibrate`, 26 weeks
after an 8-week warm-up, seed 0, 8 bisection steps, targets ranked by load from 3 % to 50 %
waiting 6+ weeks). Produced by `cdip bench simulate-calibration --json` (its
`capacity_by_trust`); deterministic (today's diaries, no solver), so the same on any machine.

Six trusts sit at the lower bound of the search (0.60): even at 60 % of their lists their
6+ week share stays a little under its target at 26 weeks (achieved 36 % for a 37 % target at
ROH, 42 % for 47 % at SWB, 38 % for 40 % at DGFT, 22 % for 23 % at UHCW, 17 % for 16 % at
GEH, 17 % for 20 % at WVT). Achieved shares ran from 5 % (SWFT) to 50 % (BWC)."""

from __future__ import annotations

REFERENCE_CAPACITY: dict[str, float] = {
    "UHB": 0.6222, "BWC": 0.7337, "ROH": 0.6012, "SWB": 0.6012, "DGFT": 0.6012,
    "WHT": 0.6367, "RWT": 0.654, "UHCW": 0.6012, "SWFT": 0.677, "GEH": 0.6012,
    "WVT": 0.6012, "WAHT": 0.6035, "SATH": 0.6319, "RJAH": 0.6058, "UHNM": 0.6151,
}
REFERENCE_WEEKS = 26
REFERENCE_WARMUP_WEEKS = 8
