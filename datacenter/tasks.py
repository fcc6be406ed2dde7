"""Celery tasks of the Data Center: thin, they take ids and call one service."""

from celery import shared_task

from datacenter import version_figures


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def precompute_version(version_id: int) -> None:
    version_figures.precompute(version_id=version_id)
