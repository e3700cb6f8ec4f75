"""Who may read /metrics without a console login: the configured token, or an allowed address."""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import current_app


class Scraper:
    """The principal of an anonymous scrape that passed the token or address check; it holds no role."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    username = "metrics scraper"
    role = "none"

    def get_id(self):
        return None

    def has_role(self, *roles: str) -> bool:
        return False


def _setting(name: str) -> str:
    value = current_app.config.get(name)
    if value in (None, ""):
        value = os.environ.get(name, "")
    return str(value).strip()


def allowed_networks(text: str) -> list:
    """Parse PIRANHA_METRICS_ALLOW; a bad entry is a ValueError naming it."""
    networks = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        try:
            networks.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            raise ValueError(f"PIRANHA_METRICS_ALLOW: {word!r} is not an address or network") from None
    return networks


def _address_allowed(remote: str | None, text: str) -> bool:
    if not text or not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    try:
        networks = allowed_networks(text)
    except ValueError as exc:
        current_app.logger.error("%s: nobody is let in by address", exc)
        return False
    return any(address in network for network in networks)


def _token_ok(header: str, token: str) -> bool:
    scheme, _, presented = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(),
                                                                              token.encode())


def load_scraper(req):
    if _token_ok(req.headers.get("Authorization", ""), _setting("PIRANHA_METRICS_TOKEN")):
        return Scraper()
    if _address_allowed(req.remote_addr, _setting("PIRANHA_METRICS_ALLOW")):
        return Scraper()
    return None
