"""Who may do what: staff accounts and roles, patient sign-in by booking reference and date
of birth, signed expiring session tokens, and the typed dependencies routes use to demand
them. Never logs a password, a date of birth or a booking reference."""
