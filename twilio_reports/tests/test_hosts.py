import pytest

from twilio_reports.hosts import REGIONS, hosts_for


def test_it_knows_the_three_regions():
    assert hosts_for("us1") == ("https://api.twilio.com", "https://monitor.twilio.com")
    assert hosts_for("ie1")[0] == "https://api.dublin.ie1.twilio.com"
    assert hosts_for("au1")[1] == "https://monitor.sydney.au1.twilio.com"
    assert set(REGIONS) == {"us1", "ie1", "au1"}


def test_it_serves_the_sandbox_from_settings(settings):
    settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:8765/"
    assert hosts_for("sandbox") == ("http://127.0.0.1:8765", "http://127.0.0.1:8765")


def test_it_refuses_an_unconfigured_sandbox_or_unknown_region(settings):
    settings.TWILIO_SANDBOX_URL = ""
    with pytest.raises(ValueError, match="not configured"):
        hosts_for("sandbox")
    with pytest.raises(ValueError, match="Unknown Twilio region"):
        hosts_for("https://evil.example.com")
