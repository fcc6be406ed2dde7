"""Hostile input: every query parameter and connector-page field, fed random and nasty values.

The contract: a form error, a 4xx, or a 200 with a fallback message; never a 500, and never a
partial save (counts of DataSets, accounts, schedules, runs and versions move only when the
whole form was valid). Hypothesis draws the values; the number tried is recorded in
var/security-figures.json."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django import forms
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from datacenter.models import DataSet
from datacenter.tests.base import connector_post
from tests.hostile_support import (
    HOSTILE,
    HOSTILE_PAGE,
    _assert_not_a_server_error,
    _counts,
    hostile,
)
from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS, validate_params
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN
from web.forms.details import DetailsForm
from web.forms.scheduling import SchedulingForm
from web.forms.zones import zone_choices

pytestmark = pytest.mark.django_db


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
