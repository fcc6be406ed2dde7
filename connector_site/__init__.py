# Importing the Celery app here makes `@shared_task` bind to it whenever Django starts
# (web, worker, beat, management commands), the layout cookiecutter-django uses.
from .celery import app as celery_app

__all__ = ("celery_app",)
