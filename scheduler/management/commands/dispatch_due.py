from django.core.management.base import BaseCommand

from scheduler.services import dispatch_due


class Command(BaseCommand):
    help = "One dispatcher tick: queue the runs of every DataSet that is due now."

    def handle(self, *args, **options) -> None:
        queued = dispatch_due()
        self.stdout.write(f"Queued {queued} run(s).")
