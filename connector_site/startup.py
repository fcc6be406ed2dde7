"""Start-up refusals shared by gunicorn (gunicorn_conf.py) and the Celery worker (celery.py).

`manage.py check` runs Django's system checks, but gunicorn and `celery worker` never do; so
both call this before they serve or take a task, and refuse to start with the plain reason.
"""

import os


def credential_keys_refusal() -> str | None:
    """Why this process must not start (no configured key decrypts the stored secrets), or
    None. Leaves no database connection open: the caller forks workers next."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_site.settings")
    import django

    django.setup()
    from django.db import connections

    from datacenter.key_check import credential_keys_problem

    try:
        problem = credential_keys_problem()
    finally:
        # A connection opened before fork() would be shared by every child.
        connections.close_all()
    if problem is None:
        return None
    return f"Refusing to start: {problem}"
