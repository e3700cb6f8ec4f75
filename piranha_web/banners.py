"""Banners shown on every page: other packages `register(provider)`.

A provider is a function of no arguments returning a list of `(level, message, url_or_None)`; level is one of
"info", "warning", "error". Providers run only for logged-in users (banners speak about the configuration).
"""

from __future__ import annotations

from typing import Callable

from flask_login import current_user

Banner = tuple[str, str, "str | None"]
_providers: list[Callable[[], list[Banner]]] = []


def register(provider: Callable[[], list[Banner]]) -> Callable[[], list[Banner]]:
    """Add a provider (once, even when called again, e.g. by a second app in tests); usable as a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def current_banners() -> list[Banner]:
    if not current_user.is_authenticated:
        return []
    banners: list[Banner] = []
    for provider in _providers:
        banners.extend(provider())
    return banners


def inject_banners() -> dict:
    """Context processor: `banners` in every template."""
    return {"banners": current_banners()}
