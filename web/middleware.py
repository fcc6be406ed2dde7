"""Show times in the user's time zone: app.js stores the browser's zone in the `tz` cookie."""

import zoneinfo
from collections.abc import Callable
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.COOKIES.get("tz", "")
        # Only a known zone name reaches zoneinfo: a cookie is anyone's input, and names like
        # "America" (a directory) or 300 characters (too long for a file name) raise OSError
        # from the file lookup, which would make every page a 500.
        try:
            if name in _zone_names():
                timezone.activate(zoneinfo.ZoneInfo(name))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            timezone.deactivate()
        return self.get_response(request)
