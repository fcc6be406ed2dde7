"""Turning table values into display cells: numbers grouped and right-aligned, money kept exact,
timestamps in the user's zone with UTC on hover."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone
from django.utils.dateformat import format as date_format

NUMERIC = frozenset({"int", "float", "decimal"})


@dataclass(frozen=True)
class Cell:
    text: str
    title: str = ""
    numeric: bool = False
    empty: bool = False


def _decimal_text(value: Decimal) -> str:
    # decimal128(18, 6) prints six places (-0.012500); trim trailing zeros but keep cents.
    # The sign is kept apart: intcomma("-0") would drop it from -0.0085.
    sign = "-" if value < 0 else ""
    text = format(abs(value).normalize(), "f")
    whole, _, frac = text.partition(".")
    frac = frac.ljust(2, "0")
    return f"{sign}{intcomma(whole)}.{frac}"


def format_value(value: Any, kind: str) -> Cell:
    numeric = kind in NUMERIC
    if value is None:
        return Cell("", "empty", numeric, empty=True)
    if isinstance(value, datetime):
        aware = value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        local = timezone.localtime(aware)
        return Cell(date_format(local, "Y-m-d H:i:s"), utc.strftime("%Y-%m-%d %H:%M:%S UTC"))
    if isinstance(value, date):
        return Cell(value.isoformat())
    if isinstance(value, bool):
        return Cell("true" if value else "false")
    if isinstance(value, Decimal):
        return Cell(_decimal_text(value), str(value), True)
    if isinstance(value, int):
        return Cell(intcomma(value), "", True)
    if isinstance(value, float):
        return Cell(intcomma(round(value, 4)), repr(value), True)
    return Cell(str(value), "", numeric)


def format_row(row: tuple[Any, ...], kinds: list[str]) -> list[Cell]:
    return [format_value(v, k) for v, k in zip(row, kinds, strict=False)]
