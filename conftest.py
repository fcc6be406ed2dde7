# The project's test plumbing lives in connector_site/pytest_plugin.py (fixtures, service
# checks, real worker processes); loading it from the root conftest works for `pytest` and
# `python -m pytest` alike.
pytest_plugins = ["connector_site.pytest_plugin"]
