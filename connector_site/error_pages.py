"""The 400 handler: the site's page, with the reason when the reason is ours.

Django's default 400 view renders its template without a request or context, so it could not
say what was wrong with `?version=abc`. Only a `BadRequest` raised by our own views carries a
message meant for users; other 400s (a forged Host header, a suspicious operation) say nothing
about their cause.
"""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) if type(exception) is BadRequest and exception.args else ""
    return render(request, "400.html", {"message": message}, status=400)
