"""`python -m fake_providers`: the fake Twilio API and the SMTP catcher together, for the demo,
until interrupted. Point the service at them with the printed URL and port."""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path

from fake_providers.smtp_catcher import running_smtp_catcher
from fake_providers.twilio_server import running_fake_twilio

DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "demo-auth-token"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fake_providers", description=__doc__)
    parser.add_argument("--twilio-port", type=int, default=8025)
    parser.add_argument("--smtp-port", type=int, default=8026)
    parser.add_argument("--maildir", type=Path, default=Path("var/mail"),
                        help="where caught emails are kept (Maildir)")
    parser.add_argument("--account-sid", default=DEMO_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEMO_AUTH_TOKEN)
    parser.add_argument("--status-callback-url", default=None)
    parser.add_argument("--inbound-url", default=None)
    parser.add_argument("--latency-ms", type=int, nargs=2, default=(100, 300),
                        metavar=("MIN", "MAX"))
    args = parser.parse_args(argv)
    with running_fake_twilio(args.account_sid, args.auth_token, port=args.twilio_port,
                             status_callback_url=args.status_callback_url,
                             inbound_url=args.inbound_url,
                             latency_ms=tuple(args.latency_ms)) as twilio, \
            running_smtp_catcher(args.maildir, port=args.smtp_port) as smtp:
        print(f"Fake Twilio API: {twilio.base_url} (messages: {twilio.base_url}/fake/messages)")
        print(f"SMTP catcher:    {smtp.host}:{smtp.port} (Maildir {args.maildir})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
