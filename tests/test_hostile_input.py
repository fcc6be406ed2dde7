"""Hostile input: every form field and query parameter, fed random and nasty values.

The contract: a form error, a 4xx, or a 200 with a fallback message; never a 500, and never a
partial save (counts of DataSets, accounts, schedules, runs and versions move only when the
whole form was valid). Hypothesis draws the values; the number tried is recorded in
var/security-figures.json. Also here: CSV formula injection at the download view, and the
guarantee that no input can point the server at another host.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from datacenter import selectors
from datacenter.models import DataSet, Region, TwilioAccount, Version
from datacenter.tests.base import call_rows, connector_post, write_calls
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, Schedule
from twilio_reports.definitions import FILTERS, REPORTS, validate_params
from twilio_reports.hosts import REGIONS, hosts_for
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN
from web.forms.details import DetailsForm
from web.forms.scheduling import SchedulingForm, zone_choices

pytestmark = pytest.mark.django_db

# Function-scoped fixtures are shared by a test's examples on purpose: the database keeps
# what earlier examples did, so "nothing saved" is checked against a growing state.
HOSTILE = examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The connector page renders ~1,300 options (zones, categories) per answer, ~0.3 s a post:
# fewer examples keep each of these tests near 10 s.
HOSTILE_PAGE = examples(HOSTILE, max_examples=40)

NASTY = (
    "", " ", "\x00", "a\x00b", "\t", "\r\n", "0", "-1", "-0", "+1", "1.5", "1e309", "nan",
    "inf", "-inf", "9" * 40, "-" + "9" * 40, "2147483648", "18446744073709551616", "0x1F",
    "1_000", "01", "²", "٣", "１２", "Ⅻ", "' OR '1'='1", "1; DROP TABLE datacenter_dataset;--",
    '" OR 1=1 --', "%", "_", "\\", "%00", "%2e%2e%2f", "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>', "javascript:alert(1)", " JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "../../../../etc/passwd",
    "..\\..\\windows\\win.ini", "/etc/passwd", "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/", "//evil.example.com", "https://evil.example.com",
    "http://127.0.0.1:6379/", "{{7*7}}", "{% debug %}", "${7*7}", "%s%s%n", "{0}",
    "\r\nSet-Cookie: x=1", "\u202e", "\u200b", "\ufeff", "😀" * 50, "𝕏", "İ", "null", "None",
    "true", "[]", "{}", "=HYPERLINK(\"http://x\")", "@SUM(1)", "+1-555-0100",
    "AC" + "g" * 32, "AC" + "A" * 32, "SK" + "0" * 33, "a" * 33, "A" * 10_000,
)


def hostile() -> st.SearchStrategy[str]:
    # Any Unicode but lone surrogates (they cannot be sent as UTF-8 at all).
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
    return st.one_of(
        st.sampled_from(NASTY),
        text,
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.tuples(st.sampled_from("A<\x00é'"), st.integers(1000, 120_000)).map(
            lambda pair: pair[0] * pair[1]
        ),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    )


@pytest.fixture
def world(settings, sandbox) -> dict:
    """alice with a saved sandbox account and a DataSet with one version (30 calls)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    dataset = dataset_make(alice, account)
    write_calls(dataset, call_rows(30))
    client = Client()
    client.force_login(alice)
    return {"alice": alice, "account": account, "dataset": dataset, "client": client}


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (DataSet, TwilioAccount, Schedule, Run, Version)
    }


def _assert_not_a_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: HTTP {response.status_code}"


def _assert_on_site(location: str) -> None:
    # Relative locations are fine as long as the browser resolves them to this site.
    resolved = urlsplit(urljoin("http://testserver/login/", location))
    assert (resolved.scheme, resolved.netloc) == ("http", "testserver"), location


# --- Query parameters of every GET view --------------------------------------------------------

QUERY_PARAMS = (
    "page", "vpage", "sort", "desc", "q", "version", "view", "quick", "account", "next",
    "days_back", "start_date", "end_date", "category", "to_number", "sid", "filter",
)
SCHEDULE_PARAMS = tuple(f"schedule-{name}" for name in SchedulingForm.base_fields)


def _get_targets(world: dict) -> list[str]:
    ds, account = world["dataset"].pk, world["account"].pk
    return [
        reverse("datasets"),
        reverse("accounts"),
        reverse("connect"),
        reverse("connect-twilio"),
        reverse("account-edit", args=[account]),
        reverse("account-delete", args=[account]),
        reverse("dataset", args=[ds]),
        reverse("dataset-data", args=[ds]),
        reverse("dataset-charts", args=[ds]),
        reverse("dataset-history", args=[ds]),
        reverse("dataset-progress", args=[ds]),
        reverse("dataset-edit", args=[ds]),
        reverse("dataset-delete", args=[ds]),
        reverse("dataset-export", args=[ds]),
        reverse("version", args=[ds, 1]),
        reverse("version-csv", args=[ds, 1]),
        reverse("status"),
        reverse("status-json"),
    ]


@HOSTILE
@given(
    data=st.data(),
    params=st.dictionaries(
        st.sampled_from(QUERY_PARAMS + SCHEDULE_PARAMS), hostile(), min_size=1, max_size=5
    ),
)
def test_it_answers_hostile_query_parameters_without_a_500(world, security_figures, data, params):
    url = data.draw(st.sampled_from(_get_targets(world)))
    before = _counts()
    response = world["client"].get(url, params)
    _assert_not_a_server_error(response, f"GET {url} {params!r}"[:500])
    # 403: /status.json refuses a non-staff session (monitors use the STATUS_TOKEN).
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    assert _counts() == before
    security_figures.add("inputs.query_parameters")


# The sharpest values, tried on every parameter each view reads, so the classic traps are
# covered on every run whatever hypothesis happens to draw.
SHARP = (
    "", "\x00", "a\x00b", "-1", "0", "²", "٣", "１２", "9" * 40, "1e309", "nan", "1.5",
    "' OR '1'='1", "<script>alert(1)</script>", "../../etc/passwd", "javascript:alert(1)",
    "//evil.example.com", "%00", "\u202e", "A" * 100_000,
)
VIEW_PARAMS = {
    "datasets": ("quick", "sort", "q", "page"),
    "dataset-data": ("version", "view", "sort", "desc", "q", "page"),
    "dataset-charts": ("version",),
    "dataset-history": ("page", "vpage"),
    "connect-twilio": ("account",),
}


@pytest.mark.parametrize("view", sorted(VIEW_PARAMS))
def test_it_answers_the_sharpest_values_on_every_parameter(world, security_figures, view):
    url = reverse(view, args=[world["dataset"].pk] if view.startswith("dataset-") else [])
    before = _counts()
    for name in VIEW_PARAMS[view]:
        for value in SHARP:
            response = world["client"].get(url, {name: value})
            _assert_not_a_server_error(response, f"GET {url} {name}={value[:40]!r}")
            assert response.status_code in (200, 400, 404), (name, value[:40])
            security_figures.add("inputs.sharp_parameters")
    assert _counts() == before


@HOSTILE
@given(value=hostile(), name=st.sampled_from(("page", "sort", "q", "version", "view", "desc")))
def test_it_keeps_the_data_tab_readable_with_hostile_paging_and_sorting(
    world, security_figures, value, name
):
    # The Data tab is the view with the most parameters: each alone, against a real table.
    url = reverse("dataset-data", args=[world["dataset"].pk])
    response = world["client"].get(url, {name: value})
    _assert_not_a_server_error(response, f"{name}={value!r}"[:300])
    if response.status_code == 200:
        # The fallback still shows the table (sorting/paging fall back with a message).
        assert "version" in response.content.decode().lower()
    security_figures.add("inputs.data_tab")


# --- The connector page (four panes) ------------------------------------------------------------

ALL_PANE_FIELDS = tuple(
    [f"cred-{n}" for n in ("account", "name", "account_sid", "auth_token", "key_sid",
                           "key_secret", "region")]
    + [f"details-{n}" for n in DetailsForm.base_fields]
    + [f"details-{n}" for n in FILTERS]
    + list(SCHEDULE_PARAMS)
    + ["ds-name", "ds-description"]
)
ACTIONS = ("_save", "_save_new", "_refresh", "_preview", "_connect")


def _int_field_ok(low: int, high: int) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            forms.IntegerField(min_value=low, max_value=high).clean(value)
        except forms.ValidationError:
            return False
        return True

    return ok


def _choice_ok(choices) -> Callable[[str], bool]:
    allowed = {str(c[0]) for c in choices}
    return lambda value: value in allowed


def _time_ok(value: str) -> bool:
    try:
        forms.TimeField().clean(value)
    except forms.ValidationError:
        return False
    return True


# Fields the base post shows, whose every value outside these rules must be refused.
CONSTRAINED: dict[str, Callable[[str], bool]] = {
    "details-report": _choice_ok([(slug, "") for slug in REPORTS]),
    "details-duration": _choice_ok([("specific", ""), ("range", "")]),
    "details-start_mode": _choice_ok([("specific", ""), ("relative", "")]),
    "details-end_mode": _choice_ok([("specific", ""), ("relative", "")]),
    "details-start_days_back": _int_field_ok(0, 3650),
    # The end may not come before the start (7 days back in the base post).
    "details-end_days_back": _int_field_ok(0, 7),
    "details-call_status": lambda v: not validate_params("calls", {"call_status": v})[1],
    "details-to_number": lambda v: not validate_params("calls", {"to_number": v})[1],
    "schedule-tab": _choice_ok([("basic", ""), ("advanced", "")]),
    "schedule-kind": lambda v: v in ("daily", "manual", "weekdays", "weekly", "monthly"),
    "schedule-every": _int_field_ok(1, 1440),
    "schedule-at": _time_ok,
    "schedule-tz": _choice_ok(zone_choices()),
    "schedule-update_method": _choice_ok([("replace", ""), ("append", ""), ("merge", "")]),
    "schedule-retry": _choice_ok([("always", ""), ("never", "")]),
    "schedule-retry_every_minutes": _int_field_ok(1, 1440),
    "schedule-retry_max": _int_field_ok(1, 20),
    "schedule-start_when": _choice_ok([("now", ""), ("later", "")]),
    # Any whole number might be alice's account id; everything else is refused.
    "cred-account": lambda v: v.strip().isascii() and v.strip().isdigit(),
}


@st.composite
def constrained_post(draw) -> tuple[str, str]:
    field = draw(st.sampled_from(sorted(CONSTRAINED)))
    valid = CONSTRAINED[field]
    value = draw(hostile().filter(lambda v: not valid(v)))
    return field, value


@HOSTILE_PAGE
@given(case=constrained_post(), action=st.sampled_from(("_save", "_save_new")))
def test_it_refuses_out_of_range_values_in_every_constrained_pane_field(
    world, security_figures, case, action
):
    field, value = case
    before = _counts()
    post = connector_post(**{"cred-account": str(world["account"].pk), field: value, action: "1"})
    post.pop("_save", None) if action != "_save" else None
    response = world["client"].post(reverse("connect-twilio"), post)
    _assert_not_a_server_error(response, f"{field}={value!r}"[:300])
    assert response.status_code == 200, f"{field}={value!r} was accepted"[:300]
    assert "Nothing was saved" in response.content.decode()
    assert _counts() == before
    security_figures.add("inputs.connector_constrained")


@HOSTILE_PAGE
@given(
    values=st.dictionaries(st.sampled_from(ALL_PANE_FIELDS), hostile(), min_size=1, max_size=4),
    action=st.sampled_from(ACTIONS),
    saved_account=st.booleans(),
)
def test_it_never_half_saves_the_connector_page(
    world, security_figures, values, action, saved_account
):
    before = _counts()
    base = {"cred-account": str(world["account"].pk)} if saved_account else {
        "cred-account": "", "cred-account_sid": MAIN_ACCOUNT_SID,
        "cred-auth_token": MAIN_AUTH_TOKEN, "cred-region": "sandbox",
    }
    post = connector_post(**{**base, **values})
    post.pop("_save", None)
    post[action] = "1"
    response = world["client"].post(reverse("connect-twilio"), post)
    _assert_not_a_server_error(response, f"{action} {values!r}"[:400])
    after = _counts()
    if response.status_code == 302 and action in ("_save", "_save_new"):
        # All four panes were valid: one DataSet and its schedule, no stray rows.
        saved = DataSet.objects.order_by("-pk").first()
        assert after["DataSet"] == before["DataSet"] + 1
        assert after["Schedule"] == before["Schedule"] + 1
        assert saved.report in REPORTS and set(saved.params.get("filters", {})) <= set(FILTERS)
        assert saved.account.owner_id == world["alice"].pk
        page = world["client"].get(reverse("dataset", args=[saved.pk])).content.decode()
        assert "<script>alert(1)" not in page and "onerror=alert" not in page
    else:
        assert response.status_code == 200, response.status_code
        # Connect may save a new checked account; nothing else is ever written.
        grown = {k for k in after if after[k] != before[k]}
        assert grown <= ({"TwilioAccount"} if action == "_connect" else set()), grown
    security_figures.add("inputs.connector_page")


@HOSTILE_PAGE
@given(values=st.dictionaries(st.sampled_from(ALL_PANE_FIELDS), hostile(), max_size=4))
def test_it_answers_the_htmx_pane_requests_with_a_pane(world, security_figures, values):
    before = _counts()
    panes = (("_connect", "pane-credentials"), ("_preview", "pane-details"),
             ("_refresh", "pane-details"), ("_refresh", "schedule-summary"))
    for action, target in panes:
        post = connector_post(**{"cred-account": str(world["account"].pk), **values,
                                 action: "1", "_save": None})
        response = world["client"].post(
            reverse("connect-twilio"), post, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target
        )
        # Refusals are shown in the pane (Twilio's reason, a field's error), never a crash.
        assert response.status_code == 200, f"{action} {values!r}"[:400]
        assert f'id="{target}"' in response.content.decode()
    assert _counts() == before
    security_figures.add("inputs.htmx_panes", len(panes))


# --- Accounts tab -------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "account_sid", "auth_token", "key_sid", "key_secret", "region")


@HOSTILE
@given(values=st.dictionaries(st.sampled_from(ACCOUNT_FIELDS), hostile(), min_size=1))
def test_it_never_half_saves_an_added_account(world, security_figures, values):
    before = _counts()
    post = {"name": "Another", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
            "region": "sandbox", **values}
    response = world["client"].post(reverse("account-add"), post)
    _assert_not_a_server_error(response, f"{values!r}"[:400])
    after = _counts()
    if response.status_code == 302:
        # Valid and accepted by (sandbox) Twilio: exactly one account, in a known region.
        assert after["TwilioAccount"] == before["TwilioAccount"] + 1
        saved = TwilioAccount.objects.order_by("-pk").first()
        assert saved.region in Region.values and saved.owner_id == world["alice"].pk
    else:
        assert response.status_code == 200
        assert after == before
    # Whatever was typed as a secret is never echoed back into the page.
    for field in ("auth_token", "key_secret"):
        secret = (post.get(field) or "").strip()
        others = [v for k, v in post.items() if k != field]
        if len(secret) >= 8 and not any(secret in v for v in others):
            assert secret not in response.content.decode()
    security_figures.add("inputs.account_add")


@HOSTILE
@given(values=st.dictionaries(st.sampled_from(("name", "secret", "region")), hostile(),
                              min_size=1))
def test_it_never_half_saves_an_edited_account(world, security_figures, values):
    account = world["account"]
    account.refresh_from_db()
    stored = (account.secret_encrypted, account.region)
    post = {"name": account.name, "secret": "", "region": account.region, **values}
    response = world["client"].post(reverse("account-edit", args=[account.pk]), post)
    _assert_not_a_server_error(response, f"{values!r}"[:400])
    account.refresh_from_db()
    if response.status_code == 200:
        # Refused: the token and the region are those stored before.
        assert (account.secret_encrypted, account.region) == stored
    else:
        assert response.status_code == 302
        assert account.region in Region.values
        assert selectors.credentials_for_account(account).secret  # still decrypts
    security_figures.add("inputs.account_edit")


# --- Other POST parameters ----------------------------------------------------------------------


@HOSTILE
@given(ids=st.lists(hostile().filter(lambda v: not (v.isascii() and v.isdigit())), max_size=4),
       target=hostile())
def test_it_keeps_bulk_run_and_redirects_on_the_site(world, security_figures, ids, target):
    before = _counts()
    response = world["client"].post(reverse("datasets-bulk-run"), {"ids": ids, "next": target})
    _assert_not_a_server_error(response, f"{ids!r} {target!r}"[:400])
    assert response.status_code == 302
    # `next` can only send the user back to a page of this site, never elsewhere.
    _assert_on_site(response["Location"])
    assert _counts() == before
    security_figures.add("inputs.bulk_run")


@HOSTILE
@given(target=hostile())
def test_it_never_redirects_off_site_after_login(world, security_figures, target):
    client = Client()
    response = client.post(
        f"{reverse('login')}?{urlencode({'next': target})}",
        {"username": "alice", "password": "pw-alice-Zq81!x", "next": target},
    )
    _assert_not_a_server_error(response, repr(target)[:300])
    assert response.status_code == 302
    _assert_on_site(response["Location"])
    security_figures.add("inputs.login_next")


# --- CSV formula injection at the download views ------------------------------------------------

FORMULAS = ("=1+2", "+1-555", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x")')


def test_it_neutralises_formulas_in_downloaded_csv(world):
    rows = call_rows(len(FORMULAS), start=100)
    for row, formula in zip(rows, FORMULAS, strict=True):
        row["to"] = formula
        row["caller_name"] = formula
    write_calls(world["dataset"], rows)
    ds = world["dataset"]
    for url in (reverse("dataset-export", args=[ds.pk]), reverse("version-csv", args=[ds.pk, 2])):
        response = world["client"].get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment;")
        body = b"".join(response.streaming_content).decode()
        table = list(csv.DictReader(io.StringIO(body, newline="")))
        assert len(table) == len(FORMULAS)
        for line, formula in zip(table, FORMULAS, strict=True):
            # Text cells that a spreadsheet would run are prefixed with a quote...
            assert line["to"] == "'" + formula and line["caller_name"] == "'" + formula
            # ...while negative prices stay plain numbers (bare, not quoted, not prefixed).
            assert Decimal(line["price"]) < 0
        first_price = table[0]["price"]
        assert f",{first_price}," in body and f"'{first_price}" not in body


# --- Hosts: only twilio_reports.hosts decides where the server connects -------------------------


def test_it_refuses_a_region_outside_the_choices(world):
    for region in ("evil", "https://evil.example.com", "http://127.0.0.1:6379", "US1 ", ""):
        before = _counts()
        response = world["client"].post(reverse("account-add"), {
            "name": f"R {region}", "account_sid": MAIN_ACCOUNT_SID,
            "auth_token": MAIN_AUTH_TOKEN, "region": region,
        })
        assert response.status_code == 200
        assert "region" in response.context["form"].errors
        assert _counts() == before
        edit = world["client"].post(
            reverse("account-edit", args=[world["account"].pk]),
            {"name": "Sandbox", "region": region},
        )
        assert edit.status_code == 200
        world["account"].refresh_from_db()
        assert world["account"].region == Region.SANDBOX


URL_FIELDS = {
    "api_base": "http://evil.example.com", "monitor_base": "http://evil.example.com",
    "url": "http://evil.example.com", "host": "evil.example.com", "base_url":
    "http://127.0.0.1:6379", "TWILIO_SANDBOX_URL": "http://evil.example.com",
}


def test_it_ignores_extra_url_fields_in_posts(world, sandbox):
    # The account is saved (the sandbox accepts it) but with hosts from its region only.
    response = world["client"].post(reverse("account-add"), {
        "name": "Extra", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
        "region": "sandbox", **URL_FIELDS,
        **{f"cred-{k}": v for k, v in URL_FIELDS.items()},
    })
    assert response.status_code == 302
    account = TwilioAccount.objects.get(owner=world["alice"], name="Extra")
    creds = selectors.credentials_for_account(account)
    assert (creds.api_base, creds.monitor_base) == (sandbox.url, sandbox.url)
    # The connector page: extra pane fields never reach the DataSet's stored parameters.
    post = connector_post(**{
        "cred-account": str(account.pk),
        **{f"details-{k}": v for k, v in URL_FIELDS.items()},
        **{f"schedule-{k}": v for k, v in URL_FIELDS.items()},
    })
    assert world["client"].post(reverse("connect-twilio"), post).status_code == 302
    saved = DataSet.objects.order_by("-pk").first()
    assert "evil" not in str(saved.params) and "6379" not in str(saved.params)
    assert set(saved.params) <= {"filters", "dates"}
    assert "evil" not in str(Schedule.objects.get(dataset=saved).spec)


def test_it_takes_hosts_only_from_the_region_table(settings):
    # No model stores a URL or host a user could set.
    for model in (TwilioAccount, DataSet, Schedule):
        names = {f.name for f in model._meta.get_fields()}
        assert not {n for n in names if any(w in n for w in ("url", "host", "base"))}, model
    # Every region maps to Twilio's own hosts; the sandbox to the configured setting only.
    for region in Region.values:
        if region == Region.SANDBOX:
            settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:9"
            assert hosts_for(region) == ("http://127.0.0.1:9", "http://127.0.0.1:9")
        else:
            api, monitor = hosts_for(region)
            assert (api, monitor) == REGIONS[region]
            assert api.startswith("https://api.") and api.endswith(".twilio.com")
            assert monitor.startswith("https://monitor.") and monitor.endswith(".twilio.com")
    # Without the setting, the sandbox region is refused rather than guessed.
    settings.TWILIO_SANDBOX_URL = ""
    with pytest.raises(ValueError):
        hosts_for(Region.SANDBOX)
    with pytest.raises(ValueError):
        hosts_for("http://evil.example.com")
