"""Initial values of the Scheduling pane from a saved schedule (the inverse of
SchedulingForm.build_spec)."""

from __future__ import annotations

import re
from typing import Any

from scheduler.models import Schedule
from web.forms.zones import valid_zone


def scheduling_initial(schedule: Schedule | None, *, time_zone: str, update_method: str,
                       **settings: Any) -> dict:
    """Initial values of the pane from a saved schedule (the inverse of build_spec);
    `settings`: the DataSet's on_empty, incremental, lookback_days, append_skip_existing."""
    initial: dict[str, Any] = {"tz": valid_zone(time_zone), "update_method": update_method,
                               **settings}
    if schedule is None:
        return initial
    spec = dict(schedule.spec or {})
    initial.update(
        retry="always" if schedule.retry_enabled else "never",
        retry_every_minutes=schedule.retry_every_minutes,
        retry_max=schedule.retry_max or 3,
        remind_after_hours=schedule.remind_after_hours,
    )
    if spec.get("tz"):
        initial["tz"] = valid_zone(spec["tz"])
    if spec.get("start_at"):
        initial.update(start_when="later", start_at=spec["start_at"])
    if spec.get("kind") == "advanced":
        initial.update(tab="advanced", adv_months=[str(m) for m in spec.get("months") or []])
        if spec.get("month_days"):
            initial.update(adv_days_by="month_days",
                           adv_month_days=[str(d) for d in spec["month_days"]])
        elif spec.get("weekdays"):
            initial.update(adv_days_by="weekdays", adv_weekdays=list(spec["weekdays"]))
        elif spec.get("nth_weekdays"):
            pairs = [re.match(r"^([+-]?\d)(\w\w)$", c) for c in spec["nth_weekdays"]]
            found = [m.groups() for m in pairs if m]
            initial.update(
                adv_days_by="nth",
                adv_nth=sorted({n for n, _ in found}),
                adv_nth_days=sorted({d for _, d in found}),
            )
        initial["adv_repeat"] = spec.get("repeat", "times")
        if initial["adv_repeat"] == "interval":
            initial.update(
                adv_every=spec.get("every", 1), adv_unit=spec.get("unit", "hours"),
                adv_window_from=spec.get("window_from") or spec.get("at"),
                adv_window_to=spec.get("window_to"),
            )
        else:
            initial["adv_times"] = ", ".join(spec.get("times") or [])
        return initial
    initial["tab"] = "basic"
    for key in ("kind", "every", "at", "window_from", "window_to", "weekdays", "day_of_month"):
        if spec.get(key) not in (None, "", []):
            initial[key] = spec[key]
    return initial
