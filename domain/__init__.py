"""Shared vocabulary of the imaging network: enums, plain dataclasses, the exam catalogue,
session templates and the reference network data. Imports nothing else of ours."""
