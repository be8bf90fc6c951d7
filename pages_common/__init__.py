"""What every page package shares (the patient portal and the staff console): the signed
session cookie, the Content-Security-Policy with its nonce, CSRF tokens on every form, the
Jinja2 environment over NHS.UK frontend, form reading and form idempotency. One place, so
both page packages keep the same protections."""
