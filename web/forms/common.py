"""Helpers shared by the pane forms: fields that only matter for some choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.forms import NON_FIELD_ERRORS
from django.http import QueryDict


class RelevantFieldsForm(forms.Form):
    """A form whose fields matter only for some choices (the report, the schedule kind...).

    Fields are parsed as usual, then errors of fields the current choices hide are dropped:
    a stale value left in a hidden input never blocks saving and is never used.
    """

    def relevant_fields(self) -> set[str]:
        """Names of the fields the current choices show; subclasses narrow this."""
        return set(self.fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        relevant = self.relevant_fields()
        for name in list(self._errors):
            if name != NON_FIELD_ERRORS and name not in relevant:
                del self._errors[name]
        return data

    def value(self, name: str) -> Any:
        """The field's current value: posted data when bound, else the initial value."""
        bound = self[name]
        return bound.value()


def initial_from_data(form: forms.Form, data: QueryDict) -> dict[str, Any]:
    """A bound form's raw values as `initial`, to re-render it without running validation.

    Used by the no-JavaScript "Refresh fields" / "Connect" / "Load Preview" round trips, which
    must keep what the user typed but show no errors for the fields they have not touched.
    """
    out: dict[str, Any] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if getattr(field.widget, "allow_multiple_selected", False):
            if key in data:
                out[name] = data.getlist(key)
        elif isinstance(field.widget, forms.PasswordInput):
            continue  # never echo a secret back into the page
        elif key in data:
            out[name] = data.get(key)
    return out
