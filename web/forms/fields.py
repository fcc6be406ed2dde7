"""Field builders shared by the panes: one look for times, numbers, checks and radios."""

from __future__ import annotations

from django import forms
from django.core import validators

TIME_FORMAT = "%H:%M"


def time_of_day(label: str, required: bool = False) -> forms.TimeField:
    widget = forms.TimeInput(attrs={"type": "time"}, format=TIME_FORMAT)
    return forms.TimeField(label=label, required=required, widget=widget)


def integer(label: str, low: int, high: int, initial: int | None = None) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=low, max_value=high, initial=initial,
        widget=forms.NumberInput(attrs={"min": low, "max": high}),
    )


def checks(label: str, choices: tuple[tuple[str, str], ...]) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, choices=choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )


def radios(label: str, choices: tuple[tuple[str, str], ...], initial: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=choices, initial=initial,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


class LimitedCharField(forms.CharField):
    """A CharField whose limit is a message, not a silent cut: the input gets no `maxlength`
    (a browser would drop what is typed past it without a word) and a longer value is
    refused with its length."""

    def __init__(self, *args: object, max_length: int, **kwargs: object) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)  # type: ignore[arg-type]
        self.validators = [v for v in self.validators
                           if not isinstance(v, validators.MaxLengthValidator)]

    def widget_attrs(self, widget: forms.Widget) -> dict:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs

    def validate(self, value: str) -> None:
        super().validate(value)
        if self.max_length is not None and value and len(value) > self.max_length:
            raise forms.ValidationError(
                f"At most {self.max_length:,} characters: this one has {len(value):,}.",
                code="max_length",
            )
