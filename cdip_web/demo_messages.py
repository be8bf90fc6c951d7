"""The demo's "what was sent" page (`/demo/messages`, demo environment only): the texts the
fake Twilio received and the emails the SMTP catcher caught, newest first, each email with
its calendar invite to download, so a newcomer who books in the portal sees the
confirmation arrive. It reads the providers' own records, not the outbox: what it shows is
what reached them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from booking_api.core.app_state import app_now, database_of, settings_of
from booking_api.core.config import Environment as Deployment
from booking_api.outbox.read_models import texts_waiting_for_morning
from fake_providers.smtp_catcher import caught_emails

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class SentEmail:
    number: int
    to: str
    subject: str
    date: str
    text: str
    calendar_method: str | None


def install_demo_pages(app: FastAPI) -> None:
    if settings_of(app).environment is Deployment.DEMO:
        app.include_router(router)


@router.get("/demo/messages", response_class=HTMLResponse)
def sent_messages(request: Request) -> HTMLResponse:
    settings = settings_of(request.app)
    texts, problem = _texts(settings.twilio_api_base_url if settings.twilio_account_sid
                            else None)
    emails = [_summary(n, m) for n, m in enumerate(_emails(settings.demo_maildir))]
    held = texts_waiting_for_morning(database_of(request.app), app_now(request.app))
    page = TEMPLATES.get_template("demo_messages.html").render(
        texts=texts, text_problem=problem, emails=list(reversed(emails)),
        maildir=settings.demo_maildir, held=len(held),
        held_until=held[0].astimezone(settings.zone).strftime("%H:%M") if held else None,
        quiet_hours=settings.sms_quiet_hours)
    return HTMLResponse(page)


@router.get("/demo/messages/{number}.ics")
def email_invite(request: Request, number: int) -> Response:
    emails = _emails(settings_of(request.app).demo_maildir)
    if not 0 <= number < len(emails):
        raise HTTPException(404, f"no email {number}")
    calendar = _calendar_part(emails[number])
    if calendar is None:
        raise HTTPException(404, f"email {number} carries no calendar invite")
    return Response(calendar, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="email-{number}.ics"'})


def _texts(base_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
    if base_url is None:
        return [], "No SMS provider is configured: start the demo with `make demo`."
    try:
        answer = httpx.get(f"{base_url}/fake/messages", timeout=3.0)
        answer.raise_for_status()
    except httpx.HTTPError as error:
        return [], f"The fake SMS provider at {base_url} did not answer ({error})."
    messages = answer.json()["messages"]
    for message in messages:
        message["at"] = datetime.fromtimestamp(message.get("accepted_at", 0), UTC) \
            .strftime("%H:%M:%S")
    return list(reversed(messages)), None


def _emails(maildir: Path | None) -> list[EmailMessage]:
    if maildir is None or not maildir.exists():
        return []
    return caught_emails(maildir)


def _summary(number: int, message: EmailMessage) -> SentEmail:
    body = message.get_body(preferencelist=("plain",))
    calendar = _calendar_part(message)
    method = None
    if calendar is not None:
        method = next((line.split(":", 1)[1].strip() for line in calendar.decode().splitlines()
                       if line.startswith("METHOD:")), None)
    return SentEmail(number, str(message["To"]), str(message["Subject"]),
                     str(message["Date"]), body.get_content() if body else "", method)


def _calendar_part(message: EmailMessage) -> bytes | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            content = part.get_content()
            return content.encode() if isinstance(content, str) else content
    return None
