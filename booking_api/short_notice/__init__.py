"""The short-notice list: patients who would take an earlier appointment if one is freed."""
