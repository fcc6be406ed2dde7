"""Small presentation helpers for the DataSets tab and a DataSet's page."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from web.views.cells import format_value
from web.views.chart_text import plain_description

register = template.Library()

SPARK_WIDTH, SPARK_HEIGHT = 90, 22


@register.simple_tag
def moment(value: datetime | None, empty: str = "—") -> SafeString:
    """A time in the user's zone (set by UserTimezoneMiddleware), with UTC on hover."""
    # Missing attributes resolve to "" in templates (`run.queued_at` of no run): same as None.
    if not isinstance(value, datetime):
        return format_html('<span class="text-body-secondary">{}</span>', empty)
    local = timezone.localtime(value)
    utc = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        date_format(local, "Y-m-d H:i T"),
    )


@register.filter
def duration(value: timedelta | float | int | None) -> str:
    """`1 h 02 min`, `3 min 05 s`, `12 s`: run durations at a glance."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@register.simple_tag
def sparkline(values: Sequence[int] | None, label: str = "Rows per day") -> SafeString:
    """An inline SVG polyline, drawn server-side so the list needs no chart library."""
    if not values:
        return mark_safe('<span class="text-body-secondary small">—</span>')  # noqa: S308 - constant
    peak = max(values) or 1
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (v / peak) * (SPARK_HEIGHT - 2):.1f}"
        for i, v in enumerate(values)
    )
    if len(values) == 1:  # one day: a flat line reads better than a lone dot
        points += f" {SPARK_WIDTH:.1f},{points.split(',')[1]}"
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}: {n} days, peak {peak}"><title>{label}: {n} days, peak {peak}</title>'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>',
        w=SPARK_WIDTH,
        h=SPARK_HEIGHT,
        label=label,
        n=len(values),
        peak=max(values),
        points=points,
    )


@register.filter
def figure(value: float | int | None, unit: str = "") -> str:
    """A headline number: counts grouped, rates as %, money with two decimals."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if isinstance(value, int):
        return f"{value:,}"
    if len(unit) == 3 and unit.isalpha() and unit.isupper():  # a currency code
        return f"{value:,.2f} {unit}"
    return f"{value:,.2f}"


MEAN_DECIMALS = 2


@register.simple_tag
def stat_cell(value: object, kind: str, mean: bool = False) -> SafeString:
    """A Stats value formatted like the table's cells (numbers grouped, times local); a
    mean is rounded to two decimals (the exact value on hover)."""
    if value is None:
        return mark_safe("—")  # noqa: S308 - constant
    if mean and isinstance(value, float | Decimal):
        rounded = f"{float(value):,.{MEAN_DECIMALS}f}"
        return format_html('<span title="{}">{}</span>', str(value), rounded)
    cell = format_value(value, kind)
    if cell.title:
        return format_html('<span title="{}">{}</span>', cell.title, cell.text)
    return format_html("{}", cell.text)


@register.filter
def chart_plain(chart: object) -> str:
    """A chart's description in plain words (web.views.chart_text)."""
    return plain_description(getattr(chart, "id", ""), getattr(chart, "definition", ""))


@register.filter
def chart_rule(chart: object) -> SafeString:
    """The chart's exact rule, field names set as code: for "How this is computed"."""
    parts = str(getattr(chart, "definition", "")).split("`")
    return mark_safe("".join(  # noqa: S308 - every part is escaped
        format_html("<code>{}</code>", part) if i % 2 else format_html("{}", part)
        for i, part in enumerate(parts)
    ))


@register.filter
def peak(values: Sequence[int] | None) -> int:
    """The largest of a sparkline's daily counts (0 when there are none)."""
    return max(values) if values else 0
