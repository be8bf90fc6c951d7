"""Who is calling, as the per-client sign-in limit counts them: the TCP peer's address, or,
when the peer is one of the reverse proxies named in CDIP_TRUSTED_PROXIES, the address that
proxy says it received the request from (the right-most X-Forwarded-For entry that is not
itself a trusted proxy). A header from anyone else is ignored: a caller cannot choose its own
address and so escape the limit."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request

Networks = tuple[IPv4Network | IPv6Network, ...]


def client_address(request: Request) -> str:
    """The client's address for rate limiting (see the module docstring)."""
    peer = request.client.host if request.client else "unknown"
    trusted = trusted_networks(request.app.state.settings.trusted_proxies)
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return hops[0] if hops and _is_address(hops[0]) else peer


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> Networks:
    """The networks of CDIP_TRUSTED_PROXIES (validated by the settings)."""
    return tuple(ip_network(part.strip(), strict=False)
                 for part in setting.split(",") if part.strip())


def _within(address: str, networks: Networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
