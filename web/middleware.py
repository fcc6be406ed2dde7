"""Show times in the user's time zone: app.js stores the browser's zone in the `tz` cookie."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from twilio_reports.dates import zone


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A cookie is anyone's input: an unknown or hostile name (a directory such as
        # "America", 300 characters) is ignored, never a 500 (twilio_reports.dates.zone).
        try:
            timezone.activate(zone(request.COOKIES.get("tz", "")[:100] or "UTC"))
        except ValueError:
            timezone.deactivate()
        return self.get_response(request)
