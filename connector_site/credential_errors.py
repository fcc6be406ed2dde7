"""A stored secret that the configured CREDENTIAL_KEYS cannot decrypt is said in plain words.

Gunicorn and the worker refuse to start in that state (connector_site/startup.py), but keys
can still change under a running process (a secret saved by a process with another key).
Any view that then meets such a secret answers with the reason, as JSON for connect.js or as
a page in the site's look, never as a 500: the request was fine, the server's keys are not.
"""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from datacenter.crypto import CredentialKeyError

logger = logging.getLogger(__name__)

# 409 Conflict: the stored secret conflicts with the configured keys; not the user's error,
# and not an unexpected one (the log line says which request met it).
STATUS = 409


class CredentialKeyErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CredentialKeyError):
            return None
        message = str(exception)
        logger.error("%s %s: %s", request.method, request.path, message)
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse(
                {"ok": False, "message": message, "errors": {"__all__": [message]}},
                status=STATUS,
            )
        return render(request, "credential_key_error.html", {"message": message}, status=STATUS)
