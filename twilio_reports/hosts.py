"""Twilio regions and their API hosts. Users pick a region; they never type a URL."""

from __future__ import annotations

REGIONS: dict[str, tuple[str, str]] = {
    "us1": ("https://api.twilio.com", "https://monitor.twilio.com"),
    "ie1": ("https://api.dublin.ie1.twilio.com", "https://monitor.dublin.ie1.twilio.com"),
    "au1": ("https://api.sydney.au1.twilio.com", "https://monitor.sydney.au1.twilio.com"),
}
SANDBOX = "sandbox"


def sandbox_url() -> str:
    # Read lazily so this module imports without configured Django settings.
    from django.conf import settings

    url = str(getattr(settings, "TWILIO_SANDBOX_URL", "") or "").rstrip("/")
    if not url:
        raise ValueError("The Twilio sandbox is not configured (TWILIO_SANDBOX_URL is empty).")
    return url


def hosts_for(region: str) -> tuple[str, str]:
    """(api_base, monitor_base) for a region; the sandbox serves both from one URL."""
    if region == SANDBOX:
        url = sandbox_url()
        return url, url
    try:
        return REGIONS[region]
    except KeyError:
        raise ValueError(f"Unknown Twilio region {region!r}.") from None
