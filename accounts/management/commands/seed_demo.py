"""`manage.py seed_demo`: build the demo city (idempotent; see accounts/demo.py)."""

from django.core.management.base import BaseCommand

from accounts.demo import seed_demo_accounts


class Command(BaseCommand):
    help = "Create demo subscribers, accounts and users (idempotent)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--individuals", type=int, default=400)

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        created = seed_demo_accounts(individuals=options["individuals"])
        self.stdout.write(f"Демо-данные: создано лицевых счетов {created}.")
