"""Keep one link between a run and the version it made: `Run.version` (scheduler points down at
datacenter, never the reverse). Copy any link recorded only on `Version.run` before
datacenter 0003 drops that column."""

from django.db import migrations


def copy_links(apps, schema_editor):
    Run = apps.get_model("scheduler", "Run")
    Version = apps.get_model("datacenter", "Version")
    links = Version.objects.filter(run__isnull=False).values_list("pk", "run_id")
    for version_id, run_id in links.iterator():
        Run.objects.filter(pk=run_id, version__isnull=True).update(version_id=version_id)


def copy_back(apps, schema_editor):
    Run = apps.get_model("scheduler", "Run")
    Version = apps.get_model("datacenter", "Version")
    links = Run.objects.filter(version__isnull=False).values_list("pk", "version_id")
    for run_id, version_id in links.iterator():
        Version.objects.filter(pk=version_id, run__isnull=True).update(run_id=run_id)


class Migration(migrations.Migration):
    dependencies = [
        ("datacenter", "0002_initial"),
        ("scheduler", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_links, copy_back)]
