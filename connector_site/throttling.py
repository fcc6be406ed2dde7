"""Login throttling per address across usernames, beside the per-username lock.

django-axes counts failures per lockout parameter and compares the largest count with one
limit (AXES_FAILURE_LIMIT). One limit does not fit both: five failures per username and
address is right, but five per address would lock a whole office behind one NAT after one
person's typos. So failures counted per address alone are scaled: the address locks after
AXES_ADDRESS_FAILURE_LIMIT failures over any usernames (one password sprayed over many
usernames), a username at that address after AXES_FAILURE_LIMIT.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

ADDRESS_ONLY = "ip_address"


class AddressAwareHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        address_limit = max(limit, settings.AXES_ADDRESS_FAILURE_LIMIT)
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)
        worst = 0
        for parameter, queryset in zip(parameters, attempts, strict=True):
            failures = queryset.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == ADDRESS_ONLY:
                # In units of the per-username limit: address_limit failures count as `limit`.
                failures = failures * limit // address_limit
            worst = max(worst, failures)
        return worst


def client_ip(request: HttpRequest) -> str | None:
    """The address throttling counts: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies
    the address the outermost of them saw (read from the right of X-Forwarded-For, since
    everything left of that is whatever the client sent). Without this, behind a proxy every
    client would share the proxy's address and 20 failures anywhere would lock out everyone.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        # Stored in an address column: anything else would be a database error.
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
