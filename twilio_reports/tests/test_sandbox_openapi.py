"""Sample responses of every report validate against Twilio's own OpenAPI schemas.

Needs Twilio's OpenAPI files (not in the repository): set TWILIO_OAI_DIR to the folder
holding twilio_api_v2010.json and twilio_monitor_v1.json (CI: ../shared/twilio-oai).
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, SandboxConfig, make_app

OAI_DIR = os.environ.get("TWILIO_OAI_DIR")
pytestmark = pytest.mark.skipif(not OAI_DIR, reason="TWILIO_OAI_DIR is not set (Twilio's "
                                "OpenAPI files live outside the repository)")
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} "
                     r"\d{2}:\d{2}:\d{2} \+0000$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ACC = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}"
CASES = [  # (spec file, OpenAPI path, sandbox path, params)
    ("twilio_api_v2010.json", "/2010-04-01/Accounts.json", "/2010-04-01/Accounts.json", {}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{Sid}.json", f"{ACC}.json", {}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Calls.json",
     f"{ACC}/Calls.json", {"PageSize": "1000"}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Conferences.json",
     f"{ACC}/Conferences.json", {"Status": "completed"}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Conferences.json",
     f"{ACC}/Conferences.json", {}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Notifications.json",
     f"{ACC}/Notifications.json", {}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Messages.json",
     f"{ACC}/Messages.json", {"PageSize": "1000"}),
    ("twilio_api_v2010.json", "/2010-04-01/Accounts/{AccountSid}/Usage/Records.json",
     f"{ACC}/Usage/Records.json", {}),
    *[("twilio_api_v2010.json", f"/2010-04-01/Accounts/{{AccountSid}}/Usage/Records/{sub}.json",
       f"{ACC}/Usage/Records/{sub}.json", {"PageSize": "200"})
      for sub in ("Daily", "Monthly", "Yearly", "Today", "Yesterday", "ThisMonth",
                  "LastMonth", "AllTime")],
    ("twilio_monitor_v1.json", "/v1/Alerts", "/v1/Alerts", {"PageSize": "200"}),
]
_specs: dict[str, dict[str, Any]] = {}


def spec(name: str) -> dict[str, Any]:
    if name not in _specs:
        _specs[name] = json.loads((Path(OAI_DIR or ".") / name).read_text())
    return _specs[name]


def response_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    # Keep "#/components/..." references resolvable from the schema root.
    components = {**doc["components"], "schemas": dict(doc["components"]["schemas"])}
    # Spec quirk: this enum is not marked nullable, yet its own description says it "will be
    # `null`" while a conference is in progress, which is what Twilio sends.
    reason = "conference_enum_reason_conference_ended"
    if reason in components["schemas"]:
        enum = components["schemas"][reason]
        components["schemas"][reason] = {**enum, "nullable": True, "enum": [*enum["enum"], None]}
    return {**schema, "components": components}


def check_formats(value: Any, key: str = "") -> None:
    """Formats the validator does not know: Twilio's RFC 2822 and monitor ISO timestamps."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_formats(v, k)
    elif isinstance(value, list):
        for v in value:
            check_formats(v, key)
    elif isinstance(value, str) and key in ("date_created", "date_updated", "start_time",
                                            "end_time", "date_sent", "message_date",
                                            "date_generated"):
        assert RFC2822.match(value) or ISO.match(value), (key, value)


@pytest.fixture(scope="module")
def client():
    app = make_app(SandboxConfig(today=date(2026, 11, 20), calls=1500, messages=1500))
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.test",
                      auth=(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)) as c:
        yield c


@pytest.mark.parametrize(("spec_name", "oai_path", "path", "params"), CASES,
                         ids=[f"{c[2].rsplit('/', 1)[-1]}{'-' + '-'.join(c[3]) if c[3] else ''}"
                              for c in CASES])
def test_it_matches_twilio_openapi_schemas(client, spec_name, oai_path, path, params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    OAS30Validator(response_schema(spec(spec_name), oai_path)).validate(body)
    check_formats(body)
    key = next((k for k, v in body.items() if isinstance(v, list)), None)
    if key is not None:
        assert body[key], f"{path} returned no sample rows to validate"
