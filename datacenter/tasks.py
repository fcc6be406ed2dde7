"""Celery tasks of the Data Center: thin, they take ids and call the function of the same name.

Imports are inside the bodies (HackSoft's rule): services queue these tasks.
"""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def version_precompute(version_id: int) -> None:
    from datacenter.version_figures import version_precompute

    version_precompute(version_id=version_id)
