"""Declarative, versioned rule sets: whether a request is appointable and whether a slot may
take it. Every verdict explains itself. Imports only `domain`."""
