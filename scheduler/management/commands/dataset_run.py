"""Run a DataSet now: `manage.py dataset_run DATASET [--wait]` (DATASET is an id or a name)."""

import time

from django.core.management.base import BaseCommand, CommandError

from datacenter.models import DataSet
from scheduler.models import ACTIVE_STATES, Run, RunState
from scheduler.services import RunAlreadyActive, run_request


class Command(BaseCommand):
    help = "Queue a run of one DataSet; with --wait, wait for it and print the result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dataset", help="DataSet id or exact name")
        parser.add_argument("--wait", action="store_true", help="wait until the run ends")
        parser.add_argument("--timeout", type=int, default=3600)

    def handle(self, *args, dataset: str, wait: bool, timeout: int, **options) -> None:
        qs = (
            DataSet.objects.filter(pk=int(dataset))
            if dataset.isdigit()
            else DataSet.objects.filter(name=dataset)
        )
        matches = list(qs[:2])
        if len(matches) != 1:
            raise CommandError(f"No single DataSet matches {dataset!r}.")
        try:
            run = run_request(dataset=matches[0])
        except RunAlreadyActive as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Queued run {run.pk} of {matches[0].name}.")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = Run.objects.get(pk=run.pk)
            if run.state not in ACTIVE_STATES:
                break
            self.stderr.write(f"\r{run.state}: {run.pages} pages, {run.rows} rows", ending="")
            time.sleep(1)
        self.stderr.write("")
        if run.state == RunState.SUCCEEDED:
            self.stdout.write(f"Succeeded: {run.rows} rows, version {run.version.number}.")
        elif run.state == RunState.FAILED:
            raise CommandError(f"Failed: {run.error}")
        elif run.state == RunState.EMPTY:
            self.stderr.write(f"warning: {run.error}")
        else:
            raise CommandError(f"Still {run.state} after {timeout}s.")
