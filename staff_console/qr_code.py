"""An otpauth:// URI drawn as a QR code an authenticator app can scan: inline SVG (no image
request, nothing for the CSP to allow, and the secret never lands in a URL or a log), named
for screen readers, with the key also shown as text for those who type it in."""

from __future__ import annotations

import segno
from markupsafe import Markup

QUIET_ZONE = 4
"""Modules of white round the code, as the QR standard asks, so phones find its edges."""


def qr_svg(data: str, label: str, *, scale: int = 4) -> Markup:
    """`data` as an inline <svg> QR code, with `label` as its accessible name."""
    code = segno.make(data, error="m")
    svg = code.svg_inline(scale=scale, dark="#000", light="#fff", border=QUIET_ZONE,
                          svgclass="console-qr")
    named = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(named)  # segno's own markup; the label is escaped above


def key_in_groups(secret: str, size: int = 4) -> str:
    """A base32 key in groups of four, easier to read aloud or type."""
    return " ".join(secret[i:i + size] for i in range(0, len(secret), size))
