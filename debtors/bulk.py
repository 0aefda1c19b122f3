"""Staff bulk actions over debt cases (docs/architecture.md §9): send claims, form warnings, hand to
court. The admin starts a job; one worker task walks its cases, calling the same services as
a single-case move, one transaction per case, and keeps the counters the progress page shows.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction

from accounts.models import User
from debtors import batches, bulk_tasks, services
from debtors.models import BulkJob, DebtCase, DebtDocument
from vodokanal.common import clock

logger = logging.getLogger(__name__)


PARAM_LABELS = {"court": "суд"}


@dataclass(frozen=True)
class Action:
    label: str  # the admin action's name and the job's title
    run: Callable[..., object]  # the service: (case_id=, on=, by=, **params) -> the new object
    params: tuple[str, ...] = ()  # keys of BulkJob.params that the service takes
    kinds: tuple[str, ...] = ()  # the documents it issues, printed together at the end


def _go_to_court(*, case_id: int, on: date, by: User | None, court: str) -> object:
    return services.go_to_court(case_id=case_id, court=court, on=on, by=by)


ACTIONS: dict[str, Action] = {
    "send_claim": Action(
        "Направить претензии", services.send_claim, kinds=(DebtDocument.Kind.CLAIM,)
    ),
    "warn_restriction": Action(
        "Сформировать предупреждения", services.warn_restriction, kinds=(DebtDocument.Kind.WARNING,)
    ),
    "go_to_court": Action(
        "Передать в суд",
        _go_to_court,
        params=("court",),
        kinds=(DebtDocument.Kind.COURT_ORDER, DebtDocument.Kind.STATEMENT_OF_CLAIM),
    ),
}


def action_label(action: str) -> str:
    return ACTIONS[action].label if action in ACTIONS else action


@transaction.atomic
def start_bulk(
    *, action: str, case_ids: list[int], params: dict[str, str], user: User | None
) -> BulkJob:
    """Record a bulk job over the chosen cases and queue the one task that runs it.

    `params` holds what the action's service needs besides the case (the court); the job's
    date ("on", ISO) is today in Moscow unless given. The task is queued after commit, so
    the worker always finds the job.
    """
    if action not in ACTIONS:
        raise ValidationError("Неизвестное массовое действие.", code="bad_action")
    ids = sorted(set(case_ids))
    if not ids:
        raise ValidationError("Не выбрано ни одного дела.", code="empty")
    params = {"on": clock.today().isoformat(), **params}
    for key in ACTIONS[action].params:
        if not str(params.get(key, "")).strip():
            raise ValidationError(
                "Не указан параметр «%(name)s».",
                code="no_param",
                params={"name": PARAM_LABELS[key]},
            )
    job = BulkJob.objects.create(
        action=action, case_ids=ids, params=params, total=len(ids), created_by=user
    )
    bulk_tasks.run_bulk.delay_on_commit(job.pk)
    logger.info("bulk job %s queued: %s over %s cases", job.pk, action, len(ids))
    return job


def run_bulk(*, job_id: int) -> BulkJob:
    """Walk the job's cases in order, one transaction each, calling the action's service.

    A refusal (the service's ValidationError) is counted in `failed` and its Russian reason
    kept in `errors` with the case and account; everything else counts in `done`.

    Safe to run twice, even at once: the cases processed are `case_ids[:done + failed]`.
    Each step locks the job row, takes the next case from that cursor, and commits the
    case's writes together with the counter, so a redelivered task, a retry after a crash or
    a second worker continues where the first stopped and no case is processed twice.
    """
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status == BulkJob.Status.DONE:
            return job
        job.status = BulkJob.Status.RUNNING
        job.save(update_fields=["status"])
    while _run_next(job_id):
        pass
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkJob.Status.DONE:
            job.status, job.finished_at = BulkJob.Status.DONE, clock.now()
            job.save(update_fields=["status", "finished_at"])
            _print_together(job)
    logger.info("bulk job %s done: %s done, %s refused", job.pk, job.done, job.failed)
    return job


def _print_together(job: BulkJob) -> None:
    """The documents the job issued, as one batch with one print file for the mail house."""
    issued = DebtDocument.objects.filter(
        case_id__in=job.case_ids,
        kind__in=ACTIONS[job.action].kinds,
        issued_on=date.fromisoformat(job.params["on"]),
        batch__isnull=True,
    ).values_list("pk", flat=True)
    batches.batch_documents(document_ids=list(issued), kind=job.action)


@transaction.atomic
def _run_next(job_id: int) -> bool:
    """Process the next case of the job; False when none is left."""
    job = (
        BulkJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
    )
    position = job.done + job.failed
    if position >= len(job.case_ids):
        return False
    case_id = job.case_ids[position]
    action = ACTIONS[job.action]
    extra = {key: job.params[key] for key in action.params}
    try:
        # A savepoint: a refusal undoes this case's writes, never the counter's transaction.
        with transaction.atomic():
            action.run(
                case_id=case_id, on=date.fromisoformat(job.params["on"]), by=job.created_by,
                **extra,
            )  # fmt: skip
    except ValidationError as error:
        _refuse(job, case_id, " ".join(error.messages))
    except DebtCase.DoesNotExist:
        _refuse(job, case_id, "Дело не найдено.")
    except (OperationalError, SoftTimeLimitExceeded):
        raise  # the task retries, or goes on in a new one, from the cursor
    except Exception:
        # A bug on one case must not stop the others; its savepoint is rolled back.
        logger.exception("bulk job %s: case %s failed", job_id, case_id)
        _refuse(job, case_id, "Внутренняя ошибка: дело пропущено, сообщите администратору.")
    else:
        job.done += 1
        job.save(update_fields=["done"])
    return True


def _refuse(job: BulkJob, case_id: int, reason: str) -> None:
    number = (
        DebtCase.objects.filter(pk=case_id).values_list("account__number", flat=True).first() or ""
    )
    job.errors = [*job.errors, {"case": case_id, "account": number, "reason": reason}]
    job.failed += 1
    job.save(update_fields=["failed", "errors"])
