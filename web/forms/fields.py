"""Field builders shared by the panes: one look for times, numbers, checks and radios."""

from __future__ import annotations

from django import forms

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
