"""`manage.py import_registry --agent sberbank PATH [PATH ...]`: payment registries from files.

Each file is imported on its own (its own transaction, as in the admin) and has its own
result: a refused file prints its Russian reasons to stderr, a file that fails unexpectedly
prints that it was not imported (the traceback goes to the log), and the others are still
imported; the exit status is 1 if any file was not imported.
"""

import logging
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.models import PaymentAgent
from billing.payments.registries.services import import_registry
from vodokanal.common.amount_words import format_rub

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Import payment registries of an agent (docs/formats.md §1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agent", required=True, help="код агента, например sberbank")
        parser.add_argument("paths", nargs="+", metavar="PATH", help="файлы реестров")

    def handle(self, *args: object, **options: object) -> None:
        agent = PaymentAgent.objects.filter(code=options["agent"]).first()
        if agent is None:
            raise CommandError(f"Агент с кодом «{options['agent']}» не найден.")
        refused = 0
        paths: list[str] = options["paths"]  # type: ignore[assignment]
        for name in paths:
            path = Path(name)
            try:
                with path.open("rb") as stream:  # read in chunks by the import
                    registry = import_registry(agent=agent, data=stream, file_name=path.name)
            except OSError as error:
                refused += 1
                self.stderr.write(f"{path.name}: файл не прочитан ({error.strerror}).")
            except ValidationError as error:
                refused += 1
                self.stderr.write(f"{path.name}: файл не загружен.")
                for message in error.messages:
                    self.stderr.write(f"  {message}")
            except Exception as error:  # one file's failure never stops the others
                refused += 1
                logger.exception("registry %s of agent %s failed", path, agent.code)
                self.stderr.write(
                    f"{path.name}: файл не загружен из-за непредвиденной ошибки "
                    f"({type(error).__name__}); ничего из него не учтено, подробности в журнале."
                )
            else:
                self.stdout.write(
                    f"{path.name}: строк {registry.lines} на {format_rub(registry.total)}; "
                    f"учтено {registry.booked} на {format_rub(registry.booked_total)}; "
                    f"пропущено {registry.skipped}; невыясненных {registry.unidentified} на "
                    f"{format_rub(registry.unidentified_total)}; показаний принято "
                    f"{registry.readings}."
                )
        if refused:
            raise CommandError(f"Не загружено файлов: {refused} из {len(paths)}.")
