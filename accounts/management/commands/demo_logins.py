"""`manage.py demo_logins`: print the URL and the demo logins (used by `make run`)."""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, STAFF_LOGINS, SUBSCRIBER_LOGINS


class Command(BaseCommand):
    help = "Print the portal URL and the demo logins."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        url = options["url"]
        lines = [
            "",
            "=" * 72,
            f"Портал: {url}    Рабочее место сотрудника: {url}staff/",
            f"Пароль всех демо-пользователей: {DEMO_PASSWORD}",
        ]
        lines += [f"  {login.email:<32} {login.role}" for login in STAFF_LOGINS + SUBSCRIBER_LOGINS]
        lines += [
            "Письма (подтверждение e-mail, пароль) печатаются в этот терминал.",
            "Остановить: Ctrl-C",
            "=" * 72,
        ]
        self.stdout.write("\n".join(lines))
