"""Pane 4 (Name & Describe) and the four panes of the connector page taken together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.http import QueryDict

from datacenter.models import DataSet, EmptyResult, UpdateMethod
from scheduler.models import Schedule
from web.forms.accounts import CredentialsForm
from web.forms.common import initial_from_data
from web.forms.details import DetailsForm, details_initial
from web.forms.fields import LimitedCharField
from web.forms.scheduling import SchedulingForm, scheduling_initial
from web.forms.zones import valid_zone

PREFIXES = {"credentials": "cred", "details": "details", "scheduling": "schedule", "naming": "ds"}


class NameForm(forms.Form):
    name = LimitedCharField(label="DataSet name", max_length=120)
    description = LimitedCharField(
        label="Description", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # On by default for a new DataSet (its data is there at once, as in Domo); off on Edit.
    run_after_save = forms.BooleanField(label="Run after saving", required=False, initial=True)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the DataSet a name.")
        return name


@dataclass
class ConnectorPage:
    """The four pane forms of one connector page, bound or not."""

    credentials: CredentialsForm
    details: DetailsForm
    scheduling: SchedulingForm
    naming: NameForm

    @property
    def forms(self) -> list[forms.Form]:
        return [self.credentials, self.details, self.scheduling, self.naming]

    @classmethod
    def build(
        cls,
        *,
        owner: AbstractBaseUser,
        data: QueryDict | None = None,
        initial: dict[str, dict[str, Any]] | None = None,
        validate: set[str] | frozenset[str] = frozenset(PREFIXES),
        locked_report: str | None = None,
    ) -> ConnectorPage:
        """Bind the panes named in `validate` to `data`; show the others with the posted
        values as initial values, so a refresh round trip shows no errors for them.

        `locked_report`: the report of a DataSet that has data, shown read-only (a posted
        report is ignored)."""
        initial = initial or {}
        tz = valid_zone((data or {}).get("schedule-tz") or initial.get("scheduling", {}).get("tz"))

        def make(key: str, form_class: type[forms.Form], **extra: Any) -> Any:
            prefix = PREFIXES[key]
            if data is not None and key in validate:
                return form_class(data, prefix=prefix, **extra)
            form = form_class(prefix=prefix, initial=initial.get(key, {}), **extra)
            if data is not None:
                form.initial = initial_from_data(form, data)
            return form

        page = cls(
            credentials=make("credentials", CredentialsForm, owner=owner),
            details=make("details", DetailsForm, time_zone=tz, locked_report=locked_report),
            scheduling=make("scheduling", SchedulingForm),
            naming=make("naming", NameForm),
        )
        page.scheduling.adapt()
        if locked_report is not None:
            page.details.initial["report"] = locked_report
        if data is not None and "naming" not in validate:
            # An unticked box is not posted: keep it unticked on a round trip.
            page.naming.initial["run_after_save"] = bool(data.get("ds-run_after_save"))
        return page

    @property
    def run_after_save(self) -> bool:
        return bool(self.naming.cleaned_data.get("run_after_save"))

    def is_valid(self) -> bool:
        # Every pane is validated so every error shows at once, not one pane at a time.
        results = [form.is_valid() for form in self.forms]
        return all(results)

    def _refresh_settings(self) -> dict[str, Any]:
        """What a run fetches and does with nothing: only what fits the update method."""
        data = self.scheduling.cleaned_data
        method = data["update_method"]
        lookback = data.get("lookback_days")
        return {
            "on_empty": data.get("on_empty") or EmptyResult.KEEP,
            "incremental": bool(data.get("incremental")) and method == UpdateMethod.MERGE,
            "lookback_days": 3 if lookback is None else lookback,
            "append_skip_existing": bool(data.get("append_skip_existing"))
            and method == UpdateMethod.APPEND,
        }

    def dataset_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for services.dataset_create / dataset_update (minus the account)."""
        return {
            "name": self.naming.cleaned_data["name"],
            "description": self.naming.cleaned_data.get("description", ""),
            "report": self.details.cleaned_data["report"],
            "params": self.details.params,
            "time_zone": self.scheduling.cleaned_data["tz"],
            "update_method": self.scheduling.cleaned_data["update_method"],
            **self._refresh_settings(),
        }


def page_initial(*, time_zone: str, dataset: DataSet | None = None,
                 account_id: int | None = None) -> dict[str, dict[str, Any]]:
    """Initial values of the four panes: a new DataSet, or the saved one for Edit."""
    if dataset is None:
        return {
            "credentials": {"account": account_id} if account_id else {},
            "scheduling": {"tz": valid_zone(time_zone)},
        }
    schedule = Schedule.objects.filter(dataset=dataset).first()
    return {
        "credentials": {"account": dataset.account_id},
        "details": details_initial(dataset.params or {}, dataset.report),
        "scheduling": scheduling_initial(
            schedule, time_zone=dataset.time_zone, update_method=dataset.update_method,
            on_empty=dataset.on_empty, incremental=dataset.incremental,
            lookback_days=dataset.lookback_days,
            append_skip_existing=dataset.append_skip_existing,
        ),
        "naming": {"name": dataset.name, "description": dataset.description,
                   "run_after_save": False},
    }


def copy_initial(dataset: DataSet) -> dict[str, dict[str, Any]]:
    """"Save as a new DataSet": a new DataSet's page filled with this one's settings."""
    initial = page_initial(time_zone=dataset.time_zone, dataset=dataset)
    initial["naming"] = {"name": f"{dataset.name} (copy)"[:120],
                         "description": dataset.description, "run_after_save": True}
    return initial
