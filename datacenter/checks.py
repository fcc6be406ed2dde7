"""A missing or wrong credential key is an error at start (`manage.py check`, runserver),
not a crash on the first page that decrypts a token. Gunicorn and the worker ask the same
question through their own start-up hooks (datacenter/key_check.py)."""

from django.core import checks


@checks.register(checks.Tags.security)
def check_credential_keys(app_configs, **kwargs):
    from datacenter.key_check import undecryptable_secrets_problem, unusable_keys_problem

    if problem := unusable_keys_problem():
        return [checks.Error(problem, id="datacenter.E001")]
    if problem := undecryptable_secrets_problem():
        return [checks.Error(problem, id="datacenter.E002")]
    return []
