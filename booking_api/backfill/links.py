"""The signed link of an offer: an itsdangerous signature over the offer's id with the
service's secret key, so an offer page cannot be reached by guessing a number. The link
only shows the offer; booking needs the page's POST."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from booking_api.core.errors import NotFound

SALT = "cdip-backfill-offer"
OFFER_PATH = "/offers/"


def offer_token(secret: str, offer_id: int) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps({"offer": offer_id})


def offer_link(portal_url: str, secret: str, offer_id: int) -> str:
    return f"{portal_url}{OFFER_PATH}{offer_token(secret, offer_id)}"


def offer_of_token(secret: str, token: str) -> int:
    """The offer id a token names; NotFound (naming the token) if it is not ours."""
    try:
        payload = URLSafeSerializer(secret, salt=SALT).loads(token)
        return int(payload["offer"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("offer", "for this link", "token") from None
