"""Imaging requests and their append-only history of state changes."""
