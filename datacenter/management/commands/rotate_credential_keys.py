"""Re-encrypt every stored Twilio secret under the newest key in CREDENTIAL_KEYS.

Rotation: put a new key first in CREDENTIAL_KEYS (keep the old ones after it), run this,
then remove the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from datacenter import crypto
from datacenter.models import TwilioAccount


class Command(BaseCommand):
    help = "Re-encrypt every stored credential under the newest CREDENTIAL_KEYS key."

    def handle(self, *args, **options) -> None:
        count = 0
        with transaction.atomic():
            for account in TwilioAccount.objects.select_for_update().only("id", "secret_encrypted"):
                account.secret_encrypted = crypto.rotate(account.secret_encrypted)
                account.save(update_fields=["secret_encrypted"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} credential(s) under the newest key.")
