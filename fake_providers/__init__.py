"""Local stand-ins for the messaging providers, for tests and `make demo`: a fake Twilio REST
API (real HTTP, so the real `twilio` client is exercised; it records messages, can be told to
fail, is slow on request and sends signed status callbacks) and an SMTP catcher (aiosmtpd)
that keeps what it receives. Never used in production; imports nothing of the project."""
