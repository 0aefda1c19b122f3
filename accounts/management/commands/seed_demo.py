"""`manage.py seed_demo`: build the demo city (idempotent). Each app adds its part through
the DEMO_SEEDERS setting, so accounts does not import the apps to its right."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from accounts.demo import seed_demo_accounts
from vodokanal.common import clock


class Command(BaseCommand):
    help = "Create demo subscribers, accounts, users and what later apps add (idempotent)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--individuals", type=int, default=400)

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        today = clock.today()
        created = seed_demo_accounts(today=today, individuals=options["individuals"])
        self.stdout.write(f"Демо-данные: создано лицевых счетов {created}.")
        for path in settings.DEMO_SEEDERS:
            count = import_string(path)(today=today)
            self.stdout.write(f"Демо-данные: {path}: {count}.")
