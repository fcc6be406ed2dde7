"""Planning a pull: which accounts, which queries, and which rows each query keeps.

A pull is cut into slices (one per account and, for time-filtered reports, per UTC day by
default). Slices' keep ranges are disjoint and cover the window, so the output has no
duplicates and no gaps even when a server's date filter returns rows of neighbouring days.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from twilio_reports.claims import DayClaim
from twilio_reports.coverage import ALL, Coverage, missing
from twilio_reports.credentials import Credentials
from twilio_reports.dates import day_bounds_utc, iso_utc, split_days, utc_days
from twilio_reports.definitions import REPORTS, DateFilter, ReportDef
from twilio_reports.errors import TwilioError
from twilio_reports.filters import CONFERENCE_STATUSES, validate_params, wire_filters
from twilio_reports.pull_config import PullStats

if TYPE_CHECKING:  # the client (httpx, pyarrow) loads with the pull, not with PullRequest
    from twilio_reports.client import TwilioClient

_DAY_US = 86_400_000_000
# Many accounts (up to 1,000 subaccounts): each account is first asked for its whole window
# in one request, since most fit in one page. Only an account whose first page shows many
# more pages is cut into slices, of about PAGES_PER_SLICE pages each (a slice costs one
# partial page, so about 10% at most); up to PROBE_KEEPS_PAGING pages it just keeps paging.
PROBE_KEEPS_PAGING = 10
PAGES_PER_SLICE = 10


@dataclass(frozen=True)
class PullRequest:
    report: str
    params: dict[str, str] = field(default_factory=dict)
    window: tuple[date, date] | None = None  # local days in `tz`, both included
    tz: str = "UTC"


@dataclass(frozen=True)
class Slice:
    """One sequence of pages: an account, a query, and the rows it is responsible for."""

    account_sid: str
    path: str
    params: dict[str, str]
    # Rows are kept when their time field is in [lo, hi) (epoch µs), or with usage, when the
    # record's period overlaps [lo, hi] (days since epoch). None: no time filter.
    keep: tuple[int, int] | None = None
    # Queries run one after another inside the slice (conference statuses); rows are
    # de-duplicated on sid across them.
    variants: tuple[dict[str, str], ...] = ({},)
    # Alerts: [start, end) instants, split in halves when Twilio says too many results.
    span: tuple[datetime, datetime] | None = None
    is_main: bool = True
    # The account's own credentials when the host answers only for the authenticated
    # account (monitor); None = the pull's credentials.
    auth: tuple[str, str] | None = field(default=None, repr=False)
    # Day pairs (see claims.py): a lead may take the next day's rows; a tail runs only
    # when its lead did not.
    lead_of: DayClaim | None = field(default=None, repr=False, compare=False)
    tail_of: DayClaim | None = field(default=None, repr=False, compare=False)
    # One request for the account's whole window, split after its first page when the
    # account turns out busy (fetch.py, split_probe).
    probe: bool = False


@dataclass
class Plan:
    rdef: ReportDef
    slices: list[Slice]


def _list_accounts(client: TwilioClient, credentials: Credentials,
                   friendly_name: str | None = None) -> list[dict[str, Any]]:
    params = {"FriendlyName": friendly_name} if friendly_name else {}
    out: list[dict[str, Any]] = []
    for page in client.iter_pages(credentials.api_base, "/2010-04-01/Accounts.json", params,
                                  account=credentials.account_sid):
        out.extend(page.get("accounts") or [])
    return out


def _resolve_accounts(client: TwilioClient, credentials: Credentials,
                      name: str | None) -> list[tuple[str, tuple[str, str] | None]]:
    """(sid, own auth) of the named (sub)account, or of every account the credentials see.

    The own auth is the subaccount's SID and token from the Accounts list: the monitor API
    answers for the authenticated account only, so a subaccount's alerts need its own
    credentials. The token lives in memory for the pull and is never stored or shown.
    """
    if name:
        matches = [a for a in _list_accounts(client, credentials, name)
                   if (a.get("friendly_name") or "") == name]
        if not matches:
            raise TwilioError(f'No Twilio account named "{name}" is visible to these credentials')
    else:
        try:
            matches = _list_accounts(client, credentials)
        except TwilioError as exc:
            if exc.status != 403:
                raise
            matches = []  # an API key limited to its own account cannot list accounts
        if not any(a.get("sid") == credentials.account_sid for a in matches):
            matches.insert(0, {"sid": credentials.account_sid})
    out: dict[str, tuple[str, str] | None] = {}
    for acct in matches:
        sid = str(acct.get("sid") or "")
        if not sid or sid in out:
            continue
        token = acct.get("auth_token")
        own = None if sid == credentials.account_sid or not token else (sid, str(token))
        out[sid] = own
    return list(out.items())


def _window_utc(request: PullRequest) -> tuple[datetime, datetime] | None:
    if request.window is None:
        return None
    return day_bounds_utc(request.window[0], request.window[1], request.tz)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    return int((moment - _EPOCH) / timedelta(microseconds=1))


def from_epoch_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _clamp_age(rdef: ReportDef, span: tuple[datetime, datetime], stats: PullStats,
               now: datetime) -> tuple[datetime, datetime] | None:
    """Twilio refuses to look further back than max_age_days: start there, and say so."""
    if rdef.max_age_days is None:
        return span
    oldest_day = (now.astimezone(UTC) - timedelta(days=rdef.max_age_days)).date()
    oldest = datetime.combine(oldest_day, datetime.min.time(), tzinfo=UTC)
    if rdef.date_filter and rdef.date_filter.style == "datetime":
        oldest = now.astimezone(UTC) - timedelta(days=rdef.max_age_days)
    start, end = span
    if start >= oldest:
        return span
    stats.warn(
        f"{rdef.label}: Twilio keeps only the last {rdef.max_age_days} days, so the window "
        f"now starts on {oldest.date().isoformat()} (UTC) instead of "
        f"{start.date().isoformat()}."
    )
    if end <= oldest:
        return None
    return oldest, end


def plan_pull(request: PullRequest, credentials: Credentials, client: TwilioClient,
              stats: PullStats, *, slice_days: int | None,
              covered: Coverage | None = None) -> Plan:
    """The slices of a pull; with `covered` (a resumed pull) only what is not staged yet."""
    plan = _plan_all(request, credentials, client, stats, slice_days=slice_days,
                     covered=covered or {})
    plan.slices = [sl for sl in plan.slices if (covered or {}).get(sl.account_sid) != ALL]
    return plan


def _plan_all(request: PullRequest, credentials: Credentials, client: TwilioClient,
              stats: PullStats, *, slice_days: int | None, covered: Coverage) -> Plan:
    if request.report not in REPORTS:
        raise TwilioError(f"Unknown report {request.report!r}")
    rdef = REPORTS[request.report]
    params, errors = validate_params(rdef.slug, dict(request.params))
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise TwilioError(f"{rdef.label}: invalid filters ({detail})")
    wire = wire_filters(rdef.slug, params)

    if not rdef.per_account:  # Accounts: one list, filtered by Twilio
        path = rdef.path_for(credentials.account_sid)
        return Plan(rdef, [Slice(credentials.account_sid, path, wire)])

    accounts = _resolve_accounts(client, credentials, params.get("account_name"))
    gran = params.get("granularity")
    df = rdef.date_filter
    span = _window_utc(request) if rdef.takes_window(params) else None
    if span is not None:
        now = client.config.clock() if client.config.clock else datetime.now(UTC)
        span = _clamp_age(rdef, span, stats, now)
        if span is None:
            return Plan(rdef, [])

    variants: tuple[dict[str, str], ...] = ({},)
    if rdef.slug == "conferences" and "Status" not in wire:
        # Twilio lists only in-progress conferences unless a status is given: ask for each.
        variants = tuple({"Status": s} for s in CONFERENCE_STATUSES)

    slices: list[Slice] = []
    for sid, own_auth in accounts:
        is_main = sid == credentials.account_sid
        auth = own_auth if rdef.host == "monitor" else None
        path = rdef.path_for(sid, gran)
        base_params = dict(wire)
        if rdef.slug == "usage-records":
            # Each account is asked for its own usage only, so totals never double-count.
            base_params["IncludeSubaccounts"] = "false"
        if span is None or df is None:
            slices.append(Slice(sid, path, base_params, variants=variants, is_main=is_main,
                                auth=auth))
            continue
        if df.style == "usage":
            assert request.window is not None
            first, last = request.window
            base_params[df.after] = first.isoformat()
            base_params[df.before] = last.isoformat()
            epoch = date(1970, 1, 1)
            keep = ((first - epoch).days, (last - epoch).days)
            slices.append(Slice(sid, path, base_params, keep=keep, is_main=is_main))
            continue
        done = covered.get(sid, ())
        if done and done != ALL:  # a resumed pull: only the instants not staged yet
            assert not isinstance(done, str)
            for lo, hi in missing(epoch_us(span[0]), epoch_us(span[1]), done):
                part = (from_epoch_us(lo), from_epoch_us(hi))
                slices.extend(_cut(part, df, slice_days, sid, path, base_params,
                                   variants=variants, is_main=is_main, auth=auth))
            continue
        if df.style == "day" and len(accounts) > 1 and slice_days is not None:
            probe = _day_slices([span], df.after, df.before, sid, path, base_params,
                                variants=variants, is_main=is_main, auth=auth)
            slices.extend(replace(sl, probe=True) for sl in probe)
            continue
        slices.extend(_cut(span, df, slice_days, sid, path, base_params, variants=variants,
                           is_main=is_main, auth=auth))
    # Leads before tails, so a tail starts only once its lead is running or done.
    slices.sort(key=lambda s: s.tail_of is not None)
    return Plan(rdef, slices)


def _cut(span: tuple[datetime, datetime], df: DateFilter, slice_days: int | None, sid: str,
         path: str, base_params: dict[str, str], **common: Any) -> list[Slice]:
    """Slices of one account over `span`: days (paired) or date-time ranges."""
    cuts = _time_slices(span, df.style, slice_days)
    if df.style == "day":
        return _day_slices(cuts, df.after, df.before, sid, path, base_params, **common)
    out = []
    for lo, hi in cuts:
        sp = {**base_params, df.after: iso_utc(lo), df.before: iso_utc(hi - timedelta(seconds=1))}
        out.append(Slice(sid, path, sp, keep=(epoch_us(lo), epoch_us(hi)), span=(lo, hi),
                         **common))
    return out


def _day_slices(cuts: list[tuple[datetime, datetime]], after: str, before: str, sid: str,
                path: str, base_params: dict[str, str], **common: Any) -> list[Slice]:
    """Slices of a date-only filter: `after>=first day`, `before<=the day after the last`.

    Never the same day on both sides: Twilio reads a date-only `X<=D` as before D. Rows
    are kept only inside each slice's own [lo, hi), so a server that includes the bound day
    gives the same rows; slices are paired so that such a server is not asked for the day
    between them twice (claims.py).
    """
    out: list[Slice] = []
    for lo, hi in cuts:
        first, last = utc_days(lo, hi)
        sp = {**base_params, after: first.isoformat(),
              before: (last + timedelta(days=1)).isoformat()}
        out.append(Slice(sid, path, sp, keep=(epoch_us(lo), epoch_us(hi)), **common))
    for i in range(0, len(out) - 1, 2):
        lead, tail = out[i], out[i + 1]
        assert lead.keep is not None and tail.keep is not None
        # The lead's request reaches into the tail's first UTC day only.
        claim = DayClaim(tail.keep[0], min(tail.keep[1], tail.keep[0] + _DAY_US))
        out[i] = replace(lead, lead_of=claim)
        out[i + 1] = replace(tail, tail_of=claim)
    return out


def after_claim(tail: Slice, after: str) -> Slice | None:
    """The tail of a pair once its lead took the tail's first day: the rest, or None."""
    claim = tail.tail_of
    assert claim is not None and tail.keep is not None
    if claim.hi >= tail.keep[1]:
        return None
    day = from_epoch_us(claim.hi).date()
    return replace(tail, params={**tail.params, after: day.isoformat()},
                   keep=(claim.hi, tail.keep[1]), tail_of=None)


def split_probe(sl: Slice, rdef: ReportDef, rows_per_day: float, page_size: int
                ) -> list[Slice]:
    """A busy account's window cut into slices of about PAGES_PER_SLICE pages each."""
    df = rdef.date_filter
    assert df is not None and sl.keep is not None
    days = max(1, int(PAGES_PER_SLICE * page_size / max(rows_per_day, 1.0)))
    span = (from_epoch_us(sl.keep[0]), from_epoch_us(sl.keep[1]))
    base = {k: v for k, v in sl.params.items() if k not in (df.after, df.before)}
    out = _day_slices(_time_slices(span, "day", days), df.after, df.before, sl.account_sid,
                      sl.path, base, variants=sl.variants, is_main=sl.is_main, auth=sl.auth)
    out.sort(key=lambda s: s.tail_of is not None)
    return out


def _time_slices(span: tuple[datetime, datetime], style: str,
                 slice_days: int | None) -> list[tuple[datetime, datetime]]:
    """Disjoint [lo, hi) instants covering span, cut at UTC midnights every slice_days."""
    start, end = span
    if slice_days is None:
        return [span]
    first, last = utc_days(start, end)
    out = []
    for d0, d1 in split_days(first, last, slice_days):
        lo = max(start, datetime.combine(d0, datetime.min.time(), tzinfo=UTC))
        hi = min(end, datetime.combine(d1 + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        if lo < hi:
            out.append((lo, hi))
    return out
