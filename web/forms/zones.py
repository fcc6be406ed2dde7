"""The time zones a form offers: canonical IANA names, and the one check of a submitted zone."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones


@lru_cache(maxsize=1)
def zone_choices() -> tuple[tuple[str, str], ...]:
    zones = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    return tuple((z, z.replace("_", " ")) for z in zones)


def valid_zone(name: str | None) -> str:
    """The name when it is a zone the form offers, else UTC (bad cookies, old browsers)."""
    return name if name and name in dict(zone_choices()) else "UTC"
