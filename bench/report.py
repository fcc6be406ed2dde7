"""Turns scenario results into the table's rows: figure, value, target, PASS/MISS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

Result = dict[str, Any]


@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str
    value: str
    target: str = ""
    verdict: str = ""  # PASS, MISS, or "" for figures without a target


def _check(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _mb(x: float) -> str:
    return f"{x:,.0f} MB"


def _ms(x: float) -> str:
    return f"{x:,.0f} ms"


def _get(r: Result, *path: str) -> Any:
    for key in path:
        if not isinstance(r, dict) or key not in r:
            return None
        r = r[key]
    return r


def pull_rows(r: Result) -> list[Row]:
    rows: list[Row] = []
    for procs, mode in sorted(r.get("modes", {}).items()):
        where = f"sandbox x{procs}"
        m = mode["methods"]
        f, c, s, v = m["floor"], m["cli"], m["sdk"], m["version"]
        rows += [
            Row("pull", f"[{where}] floor: raw fetch + orjson, {f['rows']:,} rows (process)",
                f"{f['wall_s']:.2f} s ({f['process_start_s']:.2f} s start), "
                f"peak {_mb(f['peak_rss_mb'])}"),
            Row("pull", f"[{where}] ours: `twilio_report --format parquet` (process)",
                f"{c['wall_s']:.2f} s ({c['process_start_s']:.2f} s start+exit), "
                f"{c['rows_per_s']:,.0f} rows/s"),
            Row("pull", f"[{where}] twilio SDK -> CSV",
                f"{s['seconds']:.1f} s, {s['rows_per_s']:,.0f} rows/s, "
                f"peak {_mb(s['peak_rss_mb'])}"),
            Row("pull", f"[{where}] ours: pull -> DataSet version (in-process)",
                f"{v['seconds']:.2f} s, {v['rows_per_s']:,.0f} rows/s, "
                f"peak {_mb(v['peak_rss_mb'])}"),
            Row("pull", f"[{where}] CLI / floor wall time (start included)",
                f"{mode['cli_vs_floor_time']:.2f}x", "<= 1.3x",
                _check(mode["cli_vs_floor_time"] <= 1.3)),
            Row("pull", f"[{where}] floor / SDK rows per second",
                f"{s['seconds'] / f['wall_s']:.1f}x"),
            Row("pull", f"[{where}] CLI / SDK rows per second",
                f"{mode['cli_vs_sdk_speed']:.1f}x", ">= 5x", _check(mode["cli_vs_sdk_speed"] >= 5)),
            Row("pull", f"[{where}] CLI peak RSS", _mb(c["peak_rss_mb"]), "<= 150 MB",
                _check(c["peak_rss_mb"] <= 150)),
            Row("pull", f"[{where}] version / SDK rows per second",
                f"{mode['version_vs_sdk_speed']:.1f}x", ">= 3x",
                _check(mode["version_vs_sdk_speed"] >= 3)),
            Row("pull", f"[{where}] version / floor pull time",
                f"{mode['version_vs_floor_time']:.2f}x", "<= 1.5x",
                _check(mode["version_vs_floor_time"] <= 1.5)),
            Row("pull", f"[{where}] same sids in all four (each once)",
                "yes" if mode["verify"]["ok"] else "NO", "identical",
                _check(mode["verify"]["ok"])),
            Row("pull", f"[{where}] extra requests vs the floor's pages, `<=D` read before",
                f"{mode['extra_requests']:+.1%}", "<= 10%",
                _check(mode["extra_requests"] <= 0.10)),
        ]
    for reading, sub in (r.get("readings") or {}).items():
        rows += [
            Row("pull", f"extra requests vs the floor's pages, `<=D` read {reading}",
                f"{sub['extra_requests']:+.1%}", "<= 10%", _check(sub["extra_requests"] <= 0.10)),
            Row("pull", f"version / floor pull time, `<=D` read {reading}",
                f"{sub['version_vs_floor_time']:.2f}x", "<= 1.5x",
                _check(sub["version_vs_floor_time"] <= 1.5)),
            Row("pull", f"same sids as the floor, `<=D` read {reading}",
                "yes" if sub["verify"]["ok"] else "NO", "identical", _check(sub["verify"]["ok"])),
        ]
    if r.get("error"):
        rows.append(Row("pull", "failed", str(r["error"])[:90], "", "FAILED"))
    return rows


def crowd_rows(r: Result) -> list[Row]:
    f, o = r["floor"], r["ours"]
    accounts = f"{o.get('accounts_done', 0):,} / {o.get('accounts_total', 0):,}"
    return [
        Row("crowd", f"{r['accounts']:,} accounts ({r['busy_accounts']} busy), {r['rows']:,} "
            f"rows: requests needed", f"{r['needed_requests']:,}"),
        Row("crowd", "floor: account list + one request per account + next pages",
            f"{f['wall_s']:.2f} s, {f['server_requests']:,} requests, "
            f"peak {_mb(f['peak_rss_mb'])}"),
        Row("crowd", "ours: `twilio_report` without --account-name (process)",
            f"{o['wall_s']:.2f} s, {o['server_requests']:,} requests, "
            f"peak {_mb(o['peak_rss_mb'])}"),
        Row("crowd", "ours: requests / needed", f"{r['requests_ratio']:.2f}x", "<= 1.1x",
            _check(r["requests_ratio"] <= 1.1)),
        Row("crowd", "ours / floor wall time", f"{r['time_ratio']:.2f}x", "<= 2x",
            _check(r["time_ratio"] <= 2)),
        Row("crowd", "progress: accounts done / total at the end", accounts, "all done",
            _check(o.get("accounts_total") == r["accounts"]
                   and o.get("accounts_done") == o.get("accounts_total"))),
        Row("crowd", "same sids as the floor (each once)", "yes" if r["verify"]["ok"] else "NO",
            "identical", _check(r["verify"]["ok"])),
    ]


def lean_rows(r: Result) -> list[Row]:
    check, web, worker = r["check"], r["web"], r["worker"]
    web_workers = ", ".join(_mb(x) for x in web["worker_peak_rss_mb"])
    pool = ", ".join(_mb(x) for x in worker["pool_peak_rss_mb"])
    return [
        Row("lean", "`manage.py check`, peak RSS", f"{_mb(check['peak_rss_mb'])} "
            f"({check['seconds']:.1f} s)", "<= 90 MB", _check(check["peak_rss_mb"] <= 90)),
        Row("lean", "idle web (gunicorn) after serving /login/: master, worker",
            f"{_mb(web['master_peak_rss_mb'])}, {web_workers}", "<= 90 MB each",
            _check(web["peak_rss_mb"] <= 90 and set(web["login_status"]) == {200})),
        Row("lean", "idle Celery worker: main, pool processes",
            f"{_mb(worker['main_peak_rss_mb'])}, {pool}", "<= 90 MB each",
            _check(worker["peak_rss_mb"] <= 90)),
    ]


def memory_rows(r: Result, sdk_peak: float | None) -> list[Row]:
    rows: list[Row] = []
    sizes = sorted(r["sizes"].items(), key=lambda kv: int(kv[0]))
    peaks = [(int(k), v["peak_rss_mb"], v["seconds"]) for k, v in sizes]
    for n, peak, secs in peaks:
        rows.append(Row("memory", f"worker run, {n:,} calls -> version: peak RSS",
                        f"{_mb(peak)} ({secs:.0f} s)",
                        "< 200 MB" if n == peaks[-1][0] else "",
                        _check(peak < 200) if n == peaks[-1][0] else ""))
    if len(peaks) > 1:
        growth = peaks[-1][1] - peaks[0][1]
        rows.append(Row("memory", f"growth {peaks[0][0]:,} -> {peaks[-1][0]:,} calls",
                        f"{growth:+,.0f} MB", "flat (< +30 MB)", _check(growth < 30)))
    if sdk_peak is not None:
        rows.append(Row("memory", "twilio SDK pull -> CSV, peak RSS", _mb(sdk_peak)))
    return rows


def browse_rows(r: Result) -> list[Row]:
    med = lambda key: _get(r, key, "median_ms")  # noqa: E731 - a local shorthand
    n = r["rows"]
    return [
        Row("browse", f"Data tab first page, {n:,} rows (cold)", _ms(med("first_page_cold")),
            "< 150 ms", _check(med("first_page_cold") < 150)),
        Row("browse", "first page (warm)", _ms(med("first_page_warm"))),
        Row("browse", "page sorted by a column (cold, per column)", _ms(med("sorted_cold")),
            "< 600 ms", _check(med("sorted_cold") < 600)),
        Row("browse", "next page of a sort (warm)", _ms(med("sorted_next_page_warm"))),
        Row("browse", "text search (cold, per needle)", _ms(med("search_cold"))),
        Row("browse", "Stats (cold)", _ms(med("stats_cold")), "< 2,000 ms",
            _check(med("stats_cold") < 2000)),
        Row("browse", "Stats (warm)", _ms(med("stats_warm"))),
        Row("browse", "queries per Data tab request", str(_get(r, "first_page_warm", "queries"))),
    ]


def export_rows(r: Result) -> list[Row]:
    return [
        Row("export", f"CSV download, {r['rows']:,} rows ({r['csv_mb']:,.0f} MB)",
            f"{r['rows_per_s']:,.0f} rows/s", ">= 150,000 rows/s",
            _check(r["rows_per_s"] >= 150_000)),
        Row("export", "RSS growth while streaming",
            f"{r['rss_growth_mb']:+,.0f} MB (peak {_mb(r['sampled_peak_rss_mb'])})",
            "flat (< +100 MB)", _check(r["rss_growth_mb"] < 100)),
    ]


def dispatch_rows(r: Result) -> list[Row]:
    return [
        Row("dispatch", f"{r['datasets']:,} due DataSets, tick + racing tick",
            f"{r['seconds']:.2f} s", "< 5 s", _check(r["seconds"] < 5)),
        Row("dispatch", "runs per DataSet / duplicates",
            f"{r['datasets_with_a_run']:,} with a run, {r['duplicates']} duplicates",
            "one each, 0 dup.", _check(r["ok"])),
        Row("dispatch", f"messages published ({r['broker']})", str(r["published"]),
            f"= {r['datasets']:,}", _check(r["published"] == r["datasets"])),
    ]


def pages_rows(r: Result) -> list[Row]:
    rows: list[Row] = []
    for key, label, target in (
        ("datasets_tab", f"DataSets tab, {r['datasets']:,} DataSets", True),
        ("datasets_tab_sorted_rows_page_10", "DataSets tab sorted by rows, page 10", True),
        ("dataset_page", "a DataSet's page (Overview)", True),
        ("history_tab", "History tab", False),
    ):
        s = r[key]
        q, ms = s["queries"], s["median_ms"]
        rows.append(Row("pages", f"{label}: queries, median", f"{q} q, {_ms(ms)}",
                        "<= 10 q, < 300 ms" if target else "",
                        _check(q <= 10 and ms < 300) if target else ""))
    rows.append(Row("pages", "DataSet page first view (computes headline)",
                    _ms(r["dataset_page_first"]["median_ms"])))
    return rows


def charts_rows(r: Result) -> list[Row]:
    first, cached = r["first"]["median_ms"], r["cached"]["median_ms"]
    return [
        Row("charts", f"Charts tab first view, {r['rows']:,} rows", _ms(first), "< 2,000 ms",
            _check(first < 2000)),
        Row("charts", "Charts tab cached", _ms(cached), "< 200 ms", _check(cached < 200)),
    ]


def refresh_rows(r: Result) -> list[Row]:
    full, inc = r["hourly"]["full"], r["hourly"]["incremental"]
    resume = r["resume"]
    return [
        Row("refresh", "hourly refresh of 30 days of calls, full pull",
            f"{full['requests']} requests, {full['seconds']:.1f} s"),
        Row("refresh", f"same, incremental ({r['lookback_days']}-day lookback)",
            f"{inc['requests']} requests, {inc['seconds']:.1f} s",
            "fewer requests, same rows",
            _check(inc["requests"] < full["requests"] and r["hourly"]["same_rows"])),
        Row("refresh", f"400-day SMS backfill stopped half way, resumed ({resume['rows']:,} rows)",
            f"{resume['both_attempts_requests']} vs {resume['uninterrupted_requests']} requests "
            f"({resume['overhead'] - 1:+.1%})", "<= 1.1x", _check(resume["overhead"] <= 1.1)),
    ]


def units_rows(r: Result) -> list[Row]:
    c, n, w = r["convert"], r["next_runs"], r["sandbox_world"]
    return [
        Row("units", f"typing {c['rows']:,} Calls rows, JSON pages -> Arrow (CPU, best of 3)",
            f"{c['rows_per_s']:,.0f} rows/s", ">= 100,000 rows/s",
            _check(c["rows_per_s"] >= 100_000)),
        Row("units", "same rows, fallback from decoded dicts",
            f"{c['fallback_rows_per_s']:,.0f} rows/s"),
        Row("units", "next run of a years-old schedule, per call", f"{n['per_call_ms']:.3f} ms",
            "< 1 ms", _check(n["per_call_ms"] < 1)),
        Row("units", f"sandbox world of {w['calls']:,} calls + one page",
            f"{w['seconds']:.2f} s", "< 2 s", _check(w["seconds"] < 2)),
    ]


BUILDERS: dict[str, Callable[[Result], list[Row]]] = {
    "lean": lean_rows, "pull": pull_rows, "crowd": crowd_rows, "browse": browse_rows,
    "export": export_rows,
    "dispatch": dispatch_rows, "pages": pages_rows, "charts": charts_rows,
    "refresh": refresh_rows, "units": units_rows,
}


def rows_for(results: dict[str, Result]) -> list[Row]:
    rows: list[Row] = []
    for name, result in results.items():
        if "error" in result and name != "pull":
            rows.append(Row(name, "scenario failed", str(result["error"])[:90], "", "FAILED"))
            continue
        try:
            if name == "memory":
                sdk = _get(results, "pull", "modes", "1", "methods", "sdk",
                           "peak_rss_mb") or _get(result, "sdk", "peak_rss_mb")
                rows += memory_rows(result, sdk)
            else:
                rows += BUILDERS[name](result)
        except (KeyError, TypeError) as exc:
            rows.append(Row(name, "scenario failed", str(result.get("error") or exc)[:90], "",
                            "FAILED"))
    return rows


def render(rows: list[Row]) -> str:
    heads = ("scenario", "figure", "value", "target", "")
    cells = [heads] + [(r.scenario, r.figure, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(heads))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(heads))).rstrip()
             for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict[str, str]]:
    return [asdict(r) for r in rows]
