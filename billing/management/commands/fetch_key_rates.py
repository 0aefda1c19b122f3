"""`manage.py fetch_key_rates`: add the Bank of Russia's new key-rate decisions.

Asks the Bank of Russia's service (billing.cbr) for the daily rates from the last decision in
the table up to today, and adds a KeyRate row (source "cbr") for each later day on which the
rate changed. Existing rows are never changed; where the service disagrees with the last one,
a warning says so. A network or parse error adds nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from billing import cbr, penalties
from billing.models import KeyRate
from vodokanal.common import clock


class Command(BaseCommand):
    help = "Добавить новые решения Банка России по ключевой ставке (после последней известной)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=cbr.TIMEOUT_SECONDS, help="таймаут запроса, с"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        last = KeyRate.objects.order_by("-valid_from").first()
        # From the last known decision on: the service's rate on that day is the baseline.
        date_from = last.valid_from if last else cbr.FIRST_DAY
        today = clock.today()
        if date_from > today:
            self.stdout.write("Новых решений по ключевой ставке нет.")
            return
        try:
            daily = cbr.fetch_daily_rates(date_from, today, timeout=options["timeout"])
        except cbr.CbrError as error:
            raise CommandError(f"Ключевые ставки не обновлены. {error}") from error
        added = add_key_rates(self._new_decisions(last, daily))
        if not added:
            self.stdout.write(
                f"Новых решений по ключевой ставке нет (проверено по {today:%d.%m.%Y})."
            )
            return
        self.stdout.write(f"Добавлены решения по ключевой ставке: {len(added)}.")
        for row in added:
            self.stdout.write(f"  {row}")

    def _new_decisions(
        self, last: KeyRate | None, daily: list[penalties.KeyRate]
    ) -> list[penalties.KeyRate]:
        """The days after the last known decision on which the service's rate changes."""
        if last is None:
            return cbr.rate_changes(daily)
        # The service's rate on the day of the last known decision, when it lists that day.
        known = next((row.rate for row in daily if row.valid_from == last.valid_from), None)
        if known is not None and known != last.rate:
            self.stderr.write(
                self.style.WARNING(
                    f"Внимание: по данным Банка России ставка на {last.valid_from:%d.%m.%Y} — "
                    f"{known} %, в таблице — {last.rate} %. Строка таблицы не изменена: "
                    "проверьте её."
                )
            )
        return cbr.rate_changes(
            [row for row in daily if row.valid_from > last.valid_from],
            rate_before=last.rate if known is None else known,
        )


@transaction.atomic
def add_key_rates(rows: list[penalties.KeyRate]) -> list[KeyRate]:
    """Insert the decisions whose day is not in the table yet, in one transaction.

    A row that exists already (another run got there first) is left as it is.
    """
    added = []
    for row in rows:
        key_rate, created = KeyRate.objects.get_or_create(
            valid_from=row.valid_from,
            defaults={"rate": row.rate, "source": KeyRate.Source.CBR},
        )
        if created:
            added.append(key_rate)
    return added
