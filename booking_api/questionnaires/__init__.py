"""The patient's own answers to health questionnaires, kept as given and turned into the
request facts the appointability rules read."""
