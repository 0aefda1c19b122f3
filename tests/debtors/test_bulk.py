"""Bulk actions over debt cases (docs/architecture.md §9): the job, its counters and the Russian
reasons of refusals; a rerun that repeats nothing; and the job run by a real Celery worker."""

import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from debtors import bulk, bulk_tasks, services
from debtors.models import BulkJob, CourtCase, DebtCase, DebtDocument, Stage
from tests.debtors.conftest import charge
from tests.factories import LegalSubscriberFactory, PersonalAccountFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("legal_data", "rates")]

MOSCOW = ZoneInfo("Europe/Moscow")
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
NOT_LEGAL = "Претензия направляется организациям; гражданину — уведомление и предупреждение."
PAUSED = "Действует соглашение о рассрочке № Р-1: работа по делу приостановлена."


@pytest.fixture
def queued(monkeypatch):
    """Job ids handed to the worker (the broker is the process edge: nothing is sent)."""
    calls: list[int] = []
    monkeypatch.setattr(bulk_tasks.run_bulk, "delay_on_commit", calls.append)
    return calls


def company(inn: str = "7707083893"):
    account = PersonalAccountFactory(
        subscriber=LegalSubscriberFactory(inn=inn), tariff_category="other", residents=0,
        opened_on=date(2020, 1, 1),
    )  # fmt: skip
    for month in (JAN, FEB, MAR):
        charge(account, month, "50000.00")
    return account


def person():
    account = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(account, JAN, "700.00")
    charge(account, FEB, "700.00")
    return account


@pytest.fixture
def cases():
    """On 15.04.2025: two organisations, a citizen, and an organisation with an agreement."""
    accounts = {
        "first": company("7707083893"),
        "second": company("7728168971"),
        "citizen": person(),
        "paused": company("7736050003"),
    }
    services.update_cases(on=date(2025, 4, 15))
    by_name = {name: DebtCase.objects.get(account=acc) for name, acc in accounts.items()}
    services.sign_agreement(
        case_id=by_name["paused"].pk, number="Р-1", signed_on=date(2025, 4, 10),
        schedule=[(date(2025, 5, 1), Decimal("75000.00")), (date(2025, 6, 1), Decimal("75000.00"))],
    )  # fmt: skip
    return by_name


def start(action, case_list, user, **params):
    with time_machine.travel(datetime(2025, 4, 15, 10, tzinfo=MOSCOW), tick=False):
        return bulk.start_bulk(
            action=action, case_ids=[case.pk for case in case_list], params=params, user=user
        )


def test_bulk_claims_are_sent_and_refusals_kept_with_the_reason(cases, queued, monkeypatch):
    from debtors import batch_tasks

    printed: list[int] = []
    monkeypatch.setattr(batch_tasks.render_document_batch, "delay_on_commit", printed.append)
    lawyer = UserFactory()
    job = start("send_claim", cases.values(), lawyer)
    assert queued == [job.pk]
    assert (job.status, job.total, job.params) == ("queued", 4, {"on": "2025-04-15"})

    bulk.run_bulk(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.failed) == ("done", 4, 2, 2)
    assert job.finished_at is not None
    by_account = {error["account"]: error["reason"] for error in job.errors}
    assert by_account == {
        cases["citizen"].account.number: NOT_LEGAL,
        cases["paused"].account.number: PAUSED,
    }
    claims = DebtDocument.objects.filter(kind=DebtDocument.Kind.CLAIM)
    assert sorted(claims.values_list("case_id", flat=True)) == sorted(
        [cases["first"].pk, cases["second"].pk]
    )
    for claim in claims:
        assert (claim.issued_on, claim.created_by, claim.debt) == (
            date(2025, 4, 15), lawyer, Decimal("150000.00"),
        )  # fmt: skip
        assert claim.case.stage == Stage.CLAIM_SENT
        assert claim.case.events.last().by == lawyer
    # The claims go to the mail house together: one batch, one print file to render.
    batch = claims.first().batch
    assert batch is not None
    assert set(batch.documents.values_list("pk", flat=True)) == set(
        claims.values_list("pk", flat=True)
    )
    assert printed == [batch.pk]
    # The refused cases are untouched.
    assert not DebtDocument.objects.filter(case__in=[cases["citizen"], cases["paused"]]).exists()
    assert DebtCase.objects.get(pk=cases["citizen"].pk).stage == Stage.OVERDUE


def test_a_second_run_of_the_task_repeats_nothing(cases, queued):
    job = start("send_claim", [cases["first"], cases["citizen"]], UserFactory())
    bulk.run_bulk(job_id=job.pk)
    finished = BulkJob.objects.get(pk=job.pk)

    bulk.run_bulk(job_id=job.pk)  # Redis redelivers the task

    again = BulkJob.objects.get(pk=job.pk)
    assert (again.done, again.failed, again.errors, again.finished_at) == (
        finished.done, finished.failed, finished.errors, finished.finished_at,
    )  # fmt: skip
    assert DebtDocument.objects.filter(kind=DebtDocument.Kind.CLAIM).count() == 1


def test_a_task_restarted_after_a_crash_continues_with_the_next_case(cases, queued):
    first, second = cases["first"], cases["second"]
    job = start("send_claim", [first, second], UserFactory())
    # The first worker sent the first claim and committed its counter, then died.
    services.send_claim(case_id=first.pk, on=date(2025, 4, 15))
    BulkJob.objects.filter(pk=job.pk).update(status="running", done=1)

    bulk.run_bulk(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("done", 2, 0)
    assert first.documents.filter(kind="claim").count() == 1
    assert second.documents.filter(kind="claim").count() == 1


def test_bulk_court_files_where_the_claim_term_has_run_and_says_why_not_elsewhere(cases, queued):
    first, second = cases["first"], cases["second"]
    claim = services.send_claim(case_id=first.pk, on=date(2025, 4, 10))
    services.record_delivery(
        document_id=claim.pk, method="registered_mail", sent_on=date(2025, 4, 11)
    )
    court = "Арбитражный суд Краснодарского края"
    with time_machine.travel(datetime(2025, 5, 12, 9, tzinfo=MOSCOW), tick=False):
        job = bulk.start_bulk(
            action="go_to_court", case_ids=[first.pk, second.pk], params={"court": court},
            user=None,
        )  # fmt: skip

    bulk.run_bulk(job_id=job.pk)

    job.refresh_from_db()
    assert (job.done, job.failed) == (1, 1)
    assert job.errors == [
        {
            "case": second.pk,
            "account": second.account.number,
            "reason": "Без отправленной претензии обращаться в суд нельзя (ч. 5 ст. 4 АПК РФ).",
        }
    ]
    filed = CourtCase.objects.get()
    assert (filed.case_id, filed.court, filed.filed_on) == (first.pk, court, date(2025, 5, 12))


def test_bulk_warnings_refuse_where_the_law_does_not_allow_restriction(cases, queued):
    small = PersonalAccountFactory(residents=2, opened_on=date(2020, 1, 1))
    charge(small, JAN, "630.00")
    charge(small, FEB, "630.00")  # 1 260.00 = exactly 2 x 630.00 at the norm: not over
    services.update_cases(on=date(2025, 4, 15))
    small_case = DebtCase.objects.get(account=small)

    job = start("warn_restriction", [cases["citizen"], small_case], UserFactory())
    bulk.run_bulk(job_id=job.pk)

    job.refresh_from_db()
    assert (job.done, job.failed) == (1, 1)
    assert cases["citizen"].documents.get().kind == DebtDocument.Kind.WARNING
    assert job.errors == [
        {
            "case": small_case.pk,
            "account": small.number,
            "reason": "Ограничение невозможно: долг 1\xa0260,00\xa0₽ не превышает двух "
            "месячных начислений по нормативу (1\xa0260,00\xa0₽).",
        }
    ]
    assert not small_case.documents.exists()


def test_the_job_is_queued_once_and_only_after_commit(cases, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = start("send_claim", [cases["first"]], UserFactory())
    assert len(callbacks) == 1
    assert BulkJob.objects.get().pk == job.pk


@pytest.mark.parametrize(
    ("action", "ids", "params", "code"),
    [
        ("send_claim", [], {}, "empty"),
        ("go_to_court", [1], {"court": "  "}, "no_param"),
        ("delete_everything", [1], {}, "bad_action"),
    ],
)
def test_a_job_that_cannot_run_is_refused_and_nothing_is_written(action, ids, params, code, queued):
    with pytest.raises(ValidationError) as error:
        bulk.start_bulk(action=action, case_ids=ids, params=params, user=None)
    assert error.value.code == code
    assert not BulkJob.objects.exists()
    assert queued == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_bulk_job(cases):
    from celery.contrib.testing.worker import start_worker

    from vodokanal.celery import app

    queue = f"test-bulk-{uuid.uuid4().hex}"  # no other worker takes these tasks
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            job = start("send_claim", cases.values(), UserFactory())
            _wait_for(lambda: BulkJob.objects.get(pk=job.pk).status == "done")
    finally:
        app.conf.task_default_queue = "celery"

    job.refresh_from_db()
    assert (job.done, job.failed) == (2, 2)
    assert sorted(error["reason"] for error in job.errors) == sorted([NOT_LEGAL, PAUSED])
    assert DebtDocument.objects.filter(kind="claim").count() == 2


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.2)
