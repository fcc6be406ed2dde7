"""What finished slices of an interrupted pull already brought, so a retry skips it.

Per account: the instants [lo, hi) (epoch µs) whose rows are safely staged, or ALL when the
whole account is (reports without a time range: Accounts, Usage Records). The caller keeps
it beside the staged rows (datacenter.staging) and hands it back to the next attempt.
"""

from __future__ import annotations

from collections.abc import Iterable

ALL = "all"
Ranges = tuple[tuple[int, int], ...]
Coverage = dict[str, Ranges | str]


def union(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] < r[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def missing(lo: int, hi: int, done: Ranges) -> list[tuple[int, int]]:
    """The parts of [lo, hi) that `done` does not cover."""
    out, at = [], lo
    for d_lo, d_hi in union(done):
        if d_hi <= at or d_lo >= hi:
            continue
        if d_lo > at:
            out.append((at, d_lo))
        at = max(at, d_hi)
    if at < hi:
        out.append((at, hi))
    return out


def add(coverage: Coverage, account: str, ranges: Ranges | str) -> None:
    """Record a finished slice's coverage (ALL wins over ranges)."""
    have = coverage.get(account, ())
    if ranges == ALL or have == ALL:
        coverage[account] = ALL
        return
    assert not isinstance(have, str) and not isinstance(ranges, str)
    coverage[account] = union([*have, *ranges])
