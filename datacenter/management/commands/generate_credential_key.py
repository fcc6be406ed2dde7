from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for CREDENTIAL_KEYS."

    def handle(self, *args, **options) -> None:
        self.stdout.write(Fernet.generate_key().decode())
