"""How the charts read: a plain-words description per chart (the exact rule, which names
fields, goes under "How this is computed"), and a fixed colour per series value so a
direction or a status has the same colour in every chart and every DataSet."""

from __future__ import annotations

from typing import Any

# What each chart shows, for a person: no field names, no notation.
PLAIN: dict[str, str] = {
    "calls-by-direction": "How many calls there were each day, split by who started them: "
                          "calls coming in, calls made through the API, and calls dialled "
                          "onward from another call. Each call is counted once.",
    "calls-by-status": "How many calls there were each day, split by how they ended "
                       "(completed, busy, failed, not answered, canceled...). Each call is "
                       "counted once.",
    "calls-completion-rate": "Of the calls that ended each day, the share that were "
                             "completed.",
    "calls-duration": "How long completed calls lasted each day, on average and in the "
                      "middle (median).",
    "calls-cost": "What the calls cost each day, per currency.",
    "calls-abandon-rate": "Of the incoming calls each day, the share that hung up or were "
                          "never answered.",
    "messages-by-direction": "How many messages there were each day, split by incoming, "
                             "sent through the API, sent from a call and replies.",
    "messages-by-status": "How many messages there were each day, split by what became of "
                          "them (delivered, sent, failed, undelivered...).",
    "messages-segments": "How many message parts were billed each day: a long message is "
                         "sent, and billed, as several parts.",
    "messages-cost": "What the messages cost each day, per currency.",
    "usage-cost-trend": "What the account spent each day, over all Twilio products, per "
                        "currency.",
    "usage-cost-by-category": "Where the money went: the products that cost the most over the "
                              "whole period.",
    "conferences-per-day": "How many conferences there were each day, by status.",
    "alerts-per-day": "How many alerts Twilio raised each day, by level.",
    "notifications-per-day": "How many notifications Twilio sent each day, by level.",
}

# One colour per value wherever it appears (Okabe-Ito: told apart with colour blindness).
SERIES_COLOURS: dict[str, str] = {
    "inbound": "#0072B2",
    "outbound-api": "#E69F00",
    "outbound-dial": "#009E73",
    "outbound-call": "#009E73",
    "outbound-reply": "#CC79A7",
    "completed": "#009E73",
    "delivered": "#009E73",
    "sent": "#56B4E9",
    "busy": "#E69F00",
    "failed": "#D55E00",
    "undelivered": "#D55E00",
    "no-answer": "#CC79A7",
    "canceled": "#999999",
    "error": "#D55E00",
    "warning": "#E69F00",
}
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#999999")


def plain_description(chart_id: str, definition: str) -> str:
    """The chart's description in plain words; a chart without one gets its rule with the
    field marks taken out."""
    return PLAIN.get(chart_id) or definition.replace("`", "")


def with_colours(charts_json: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each series gets its value's colour (or the next of the palette) for charts.js."""
    for chart in charts_json:
        spare = iter(c for c in PALETTE * 4)
        used: set[str] = set()
        for series in chart.get("series", []):
            colour = SERIES_COLOURS.get(str(series.get("name", "")).lower())
            if colour is None or colour in used:
                colour = next((c for c in spare if c not in used), PALETTE[0])
            used.add(colour)
            series["color"] = colour
    return charts_json
