"""`manage.py run_billing [--month YYYY-MM]`: the monthly billing run, here and now.

The same service the Celery task and the admin action call; prints the run's totals.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import services
from vodokanal.common import clock


class Command(BaseCommand):
    help = "Run billing for a month (default: the current one): charges, recalculations, penalties."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="ГГГГ-ММ; по умолчанию текущий месяц")

    def handle(self, *args: object, **options: object) -> None:
        month = _month(options["month"]) if options["month"] else clock.today()
        try:
            run = services.create_billing_run(month=month)
            run = services.run_billing(run_id=run.pk)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        period = run.period
        self.stdout.write(
            f"Расчёт за {period}: лицевых счетов {run.accounts}, начислено {run.charged} ₽, "
            f"перерасчёты {run.adjusted} ₽, пени {run.penalties} ₽ (должников {run.debtors})."
        )


def _month(text: object) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        raise CommandError(f"Месяц {text!r} не в формате ГГГГ-ММ.") from None
