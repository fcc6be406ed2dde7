"""What Django's error reports (the debug page, the e-mail to ADMINS) may show of a request.

Views and services that receive a Twilio token are marked with `sensitive_post_parameters` and
`sensitive_variables`; this filter makes the marks hold everywhere and adds a net under them:

- Django honours the marks only when DEBUG is off; here they always hold, so `make dev`'s
  debug page hides tokens too.
- Any POST field or local variable whose *name* says it holds a secret is hidden in every
  frame, marked or not: frames in code that cannot carry the marks (httpx's auth tuple, a
  helper someone adds later) are covered by their names.
"""

import re

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

SECRET_NAMES = re.compile(r"secret|token|passw|credential|auth|api_?key", re.IGNORECASE)


class SecretsReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None):
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for name in params:
            if SECRET_NAMES.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame):
        return [
            (name, self.cleansed_substitute if SECRET_NAMES.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
