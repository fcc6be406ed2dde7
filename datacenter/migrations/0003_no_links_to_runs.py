"""datacenter stops pointing at scheduler: `DataSet.last_run` is derived from the runs (the
latest queued), and `Version.run` is kept as `Run.version` only (scheduler 0002 copied it)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('datacenter', '0002_initial'),
        # Copies Version.run onto Run.version first: no link is lost.
        ('scheduler', '0002_run_version_from_version_run'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='dataset',
            name='last_run',
        ),
        migrations.RemoveField(
            model_name='version',
            name='run',
        ),
    ]
