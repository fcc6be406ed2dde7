"""DataSet schedules as one stored form: an RFC 5545 recurrence rule in a time zone.

The Scheduling pane (Basic and Advanced tabs) produces a JSON-able `ScheduleSpec`. `to_rule`
compiles it to a `Rule`: the RRULE text as dateutil's ``str()`` writes it, without its DTSTART
line (usually one ``RRULE:`` line; several when the times of day are not one BYHOUR x BYMINUTE
product, see `_time_groups`, or for the February line of `_month_day_parts`), an IANA zone,
and a naive wall-clock ``dtstart`` in that zone. The database keeps the `Rule` (and the spec,
so the form can be shown again); the dispatcher only ever calls `next_runs`, the DataSet pages
call `describe`.

Time semantics (PRODUCT.md §1.1: "daylight-saving changes must not skip or double a run"):

* Rules are evaluated in local wall-clock time; each wall time is then mapped to the first
  instant at which the zone's clock reads that time or later:
  - a normal wall time -> its one instant;
  - a repeated wall time (fall back: 01:30 twice in America/New_York) -> the first pass
    (fold=0), so the run happens once;
  - a wall time that never exists (spring forward: 02:30 in Europe/Berlin) -> the end of the
    gap (03:00 local), so the run happens once instead of being skipped.
  Several wall times in one gap land on the same instant; they are merged into a single run.
* Sub-daily intervals ("every 2 hours", "every 15 minutes") are wall-clock intervals aligned
  to the start time: "every 2 hours from 09:00" runs at 09:00, 11:00, ... local time every
  day, whatever the offset. Across spring forward the runs inside the gap collapse into one
  run at the end of the gap; across fall back the repeated hour runs once (its first pass),
  so elapsed time between two runs can differ from the interval by the size of the clock
  change, but no local day is skipped and no two runs share an instant.
* Intervals that divide the day (every 15/20/30 minutes, every 1/2/3/4/6/8/12 hours) and any
  interval with active hours repeat the same times each day (``FREQ=DAILY`` with BYHOUR and
  BYMINUTE). Other intervals without active hours (every 5 hours, every 50 minutes) run as a
  continuous wall-clock series from the start (``FREQ=HOURLY``/``MINUTELY;INTERVAL=N``).
  The Advanced tab's interval is "within the day": it always restarts each day.
* Active hours [from, to) exclude their end; a window whose end is earlier than its start
  wraps past midnight (22:00 to 06:00). Runs restart at the start time each day.
* A day of month that a month lacks (31 in April, 30 in February) runs on that month's last
  day; 31 is stored as ``BYMONTHDAY=-1``.
* Runs must be at least 15 minutes apart, including from the last run of one day to the first
  run of the next (PRODUCT.md §1.1 "Minimum interval 15 minutes").
* The delayed start ("Start schedule: Later") is stored as ``dtstart``: dateutil never yields
  an occurrence before ``dtstart``. For interval schedules the first run is the first point of
  the start time's grid at or after it, so the phase the user chose is kept.
"""

from scheduler.recurrence.dst import next_runs
from scheduler.recurrence.rules import Rule, to_rule
from scheduler.recurrence.spec import (
    KINDS,
    MIN_GAP_MINUTES,
    MONTH_NAMES,
    NTH_CHOICES,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    ScheduleSpec,
    SpecError,
    zone_or_none,
)
from scheduler.recurrence.validation import validate
from scheduler.recurrence.words import describe

__all__ = [
    "KINDS",
    "MIN_GAP_MINUTES",
    "MONTH_NAMES",
    "NTH_CHOICES",
    "WEEKDAY_CODES",
    "WEEKDAY_NAMES",
    "Rule",
    "ScheduleSpec",
    "SpecError",
    "describe",
    "next_runs",
    "to_rule",
    "validate",
    "zone_or_none",
]
