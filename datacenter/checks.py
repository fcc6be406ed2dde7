"""A missing or wrong credential key is an error at start (`manage.py check`, runserver,
the worker), not a crash on the first page that decrypts a token."""

from django.core import checks


@checks.register(checks.Tags.security)
def check_credential_keys(app_configs, **kwargs):
    from datacenter.crypto import CredentialKeyError, decrypt, encrypt
    from datacenter.models import TwilioAccount

    try:
        decrypt(encrypt("probe"))
    except CredentialKeyError as exc:
        return [checks.Error(str(exc), id="datacenter.E001")]
    try:
        sample = TwilioAccount.objects.only("secret_encrypted").first()
    except Exception:  # no table yet (before migrate): nothing stored to check
        return []
    if sample is not None:
        try:
            decrypt(sample.secret_encrypted)
        except CredentialKeyError as exc:
            return [checks.Error(str(exc), id="datacenter.E002")]
    return []
