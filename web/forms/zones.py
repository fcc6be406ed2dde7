"""The time zones a form offers: canonical IANA names, searchable, and the one check of a
submitted zone.

Canonical means the zones of tzdata's `zone.tab` (each country's zones under their current
names), not the links kept for old names ("US/Pacific", "Asia/Calcutta", "GB"): the menu
lists each place once. A link saved earlier is still accepted (an older DataSet keeps it).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from zoneinfo import available_timezones

UTC = "UTC"


@lru_cache(maxsize=1)
def canonical_zones() -> tuple[str, ...]:
    """UTC and the zones of `zone.tab`: every country's zones under their current names."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # no tzdata: the system's list
        text = "\n".join(f"-\t-\t{z}" for z in available_timezones() if "/" in z)
    names = {
        fields[2] for line in text.splitlines()
        if line and not line.startswith("#") and len(fields := line.split("\t")) >= 3
    }
    return (UTC, *sorted(names & available_timezones()))


@lru_cache(maxsize=1)
def zone_choices() -> tuple[tuple[str, str], ...]:
    return tuple((z, z.replace("_", " ")) for z in canonical_zones())


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if "/" in z or z == UTC)


def valid_zone(name: str | None) -> str:
    """The name when it is a known zone (canonical, or a link saved earlier), else UTC (bad
    cookies, old browsers)."""
    return name if name and name in _known() else UTC


def _folded(text: str) -> str:
    return text.replace("_", " ").replace("/", " ").casefold()


def zone_search(query: str, *, keep: str | None = None) -> tuple[tuple[str, str], ...]:
    """The menu's choices whose name contains every word of `query` (any case; "los ang",
    "america/los_angeles" and "Los Angeles" all find America/Los_Angeles), plus `keep` (the
    current value) so a filtered menu never drops what is chosen."""
    words = _folded(query or "").split()
    found = [c for c in zone_choices() if all(w in _folded(c[0]) for w in words)]
    if keep and keep in _known() and keep not in {z for z, _ in found}:
        found.insert(0, (keep, keep.replace("_", " ")))
    return tuple(found)
