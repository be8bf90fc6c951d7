"""Patients: who they are, how to reach them, and what they need to get to a scan."""
