"""The chart objects handed to the template, and their JSON round trip.

Everything here is plain data (str, int, float, None, lists) so a version's charts can be cached
as one JSON string keyed by the DataSet version and drawn later without recomputing.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChartKind = Literal["bar", "stacked-bar", "line"]
Cell = str | int | float | None


@dataclass
class Series:
    name: str
    x: list[str]  # ISO dates
    y: list[int | float | None]  # None = no value that day (a gap, not a zero)


@dataclass
class ChartTable:
    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class Chart:
    id: str
    title: str
    definition: str  # the exact rule used, in plain words, shown under the title
    kind: ChartKind
    x_label: str
    y_label: str  # with the unit: "calls", "%", "seconds", "USD"...
    series: list[Series] = field(default_factory=list)
    table: ChartTable = field(default_factory=ChartTable)
    empty_reason: str | None = None  # set when the metric cannot be shown; series are then empty

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chart:
        return cls(
            id=data["id"],
            title=data["title"],
            definition=data["definition"],
            kind=data["kind"],
            x_label=data["x_label"],
            y_label=data["y_label"],
            series=[Series(s["name"], list(s["x"]), list(s["y"])) for s in data["series"]],
            table=ChartTable(
                list(data["table"]["columns"]), [list(r) for r in data["table"]["rows"]]
            ),
            empty_reason=data.get("empty_reason"),
        )


@dataclass(frozen=True)
class Headline:
    label: str
    value: int | float | None  # None = cannot be computed (shown as a dash)
    unit: str


def charts_to_jsonable(charts: list[Chart]) -> list[dict[str, Any]]:
    """The list the template passes to `json_script`."""
    return [c.to_dict() for c in charts]


def charts_to_json(charts: list[Chart]) -> str:
    # allow_nan=False: NaN/Infinity are not JSON and would break JSON.parse in the browser.
    return json.dumps(charts_to_jsonable(charts), allow_nan=False, separators=(",", ":"))


def charts_from_json(text: str) -> list[Chart]:
    return [Chart.from_dict(d) for d in json.loads(text)]


def _clean(value: Any) -> Any:
    """NaN -> None and numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value
