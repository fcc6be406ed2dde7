"""Gunicorn settings for every way the product is served (Dockerfile, compose, `make run`):
`gunicorn -c connector_site/gunicorn_conf.py connector_site.wsgi:application`.

Bind address, workers and timeout stay on the command line (or GUNICORN_CMD_ARGS); this file
adds the start-up refusal: the master checks CREDENTIAL_KEYS against the stored secrets
before it forks a worker, and exits with the reason instead of serving 500s.
"""

from connector_site.startup import credential_keys_refusal

# Access log to stdout like the rest of the logs; errors to stderr.
accesslog = "-"


def on_starting(server) -> None:
    refusal = credential_keys_refusal()
    if refusal:
        # Gunicorn prints a RuntimeError raised here as "Error: <message>" and exits with 1.
        server.log.error(refusal)
        raise RuntimeError(refusal)
