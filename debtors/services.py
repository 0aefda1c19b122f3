"""Debt collection: every move of a case is a function here, with the legal preconditions
it needs (docs/penalties.md §8, §9). Documents are created here and rendered by workers.

Case figures (debt, months, penalty) are refreshed from the ledger by update_cases; the
ledger is the truth, the case only follows it.
"""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from billing import selectors as billing_selectors
from billing.models import Period
from debtors import selectors, tasks
from debtors.court_fees import court_order_fee, state_fee
from debtors.models import (
    FINAL_STAGES,
    CaseEvent,
    CourtCase,
    DebtCase,
    DebtDocument,
    InstallmentAgreement,
    Instalment,
    Restriction,
    Stage,
)
from vodokanal.common import clock
from vodokanal.common.amount_words import rub
from vodokanal.common.law import LAW
from vodokanal.common.money import ZERO, to_kopecks

logger = logging.getLogger(__name__)


# --- Opening, updating and closing cases ---


@transaction.atomic(durable=True)
def update_cases(*, on: date | None = None) -> dict[str, int]:
    """Open a case for every account with overdue debt, refresh the open ones, close those
    paid off (ordering restoration where service was restricted), move back those whose
    debt fell below the restriction threshold, and check instalment agreements.

    Idempotent: a rerun on the same day changes nothing. Returns counts for the log.
    """
    on = on or clock.today()
    owing = billing_selectors.accounts_owing(on=on)
    overdue = billing_selectors.overdue_by_account(owing, on=on)
    minimum = Decimal(settings.DEBT_CASE_MIN_DEBT)
    overdue = {pk: row for pk, row in overdue.items() if row.debt >= minimum}
    open_cases = {
        case.account_id: case
        for case in DebtCase.objects.select_for_update()
        .filter(closed_on__isnull=True)
        .select_related("account__subscriber")
    }
    penalties = billing_selectors.penalty_balances(list(overdue) + list(open_cases))
    counts = {"opened": 0, "updated": 0, "closed": 0}
    for account_id, row in overdue.items():
        case = open_cases.get(account_id)
        fields = {
            "debt": row.debt,
            "penalty": penalties.get(account_id, ZERO),
            "overdue_since": row.since,
            "months_overdue": row.months,
            "updated_on": on,
        }
        if case is None:
            case = DebtCase.objects.create(account_id=account_id, opened_on=on, **fields)
            _event(case, on=on, to=Stage.OVERDUE, reason="Просрочена оплата", from_stage="")
            counts["opened"] += 1
            continue
        for name, value in fields.items():
            setattr(case, name, value)
        case.save(update_fields=list(fields))
        counts["updated"] += 1
        _move_back_below_threshold(case, on=on)
    for account_id, case in open_cases.items():
        if account_id not in overdue:
            _close_paid(case, on=on)
            counts["closed"] += 1
    _check_agreements(on=on)
    logger.info("debt cases on %s: %s", on, counts)
    return counts


def _close_paid(case: DebtCase, *, on: date) -> None:
    """Payments have covered the overdue debt: close, and restore service if restricted."""
    active = case.restrictions.filter(restricted_on__isnull=False, restored_on__isnull=True)
    for restriction in active:
        restriction.restore_ordered_on = on
        restriction.save(update_fields=["restore_ordered_on"])
        _issue(case, DebtDocument.Kind.RESTORE_ORDER, on=on, by=None)
    case.debt = ZERO
    case.months_overdue = 0
    case.updated_on = on
    case.save(update_fields=["debt", "months_overdue", "updated_on"])
    _move(case, Stage.CLOSED, on=on, reason="Просроченный долг погашен", by=None)
    case.closed_on = on
    case.save(update_fields=["closed_on"])
    case.agreements.filter(status=InstallmentAgreement.Status.ACTIVE).update(
        status=InstallmentAgreement.Status.COMPLETED, ended_on=on
    )


def _move_back_below_threshold(case: DebtCase, *, on: date) -> None:
    """A warned debtor who paid enough that restriction is no longer allowed goes back."""
    if case.stage != Stage.RESTRICTION_WARNED:
        return
    problem = _restriction_refusal(case, on=on)
    if problem:
        _move(
            case, Stage.NOTIFIED, on=on, reason=f"Ограничение больше невозможно: {problem}", by=None
        )


# --- Stages ---


def send_notice(*, case_id: int, period: Period, on: date, by: User | None = None) -> DebtDocument:
    """The monthly notice of debt (уведомление). One per case and month."""
    with transaction.atomic():
        case = _open_case(case_id)
        _refuse_if_paused(case, on=on)
        existing = case.documents.filter(kind=DebtDocument.Kind.NOTICE, period=period).first()
        if existing:
            return existing
        document = _issue(case, DebtDocument.Kind.NOTICE, on=on, by=by, period=period)
        if case.stage == Stage.OVERDUE:
            _move(case, Stage.NOTIFIED, on=on, reason=f"Уведомление № {document.number}", by=by)
        return document


def send_claim(*, case_id: int, on: date, by: User | None = None) -> DebtDocument:
    """The pre-trial claim (претензия) to an organisation (АПК РФ ст. 4 ч. 5)."""
    with transaction.atomic():
        case = _open_case(case_id)
        _refuse_if_paused(case, on=on)
        if not case.account.subscriber.is_legal_entity:
            raise ValidationError(
                "Претензия направляется организациям; гражданину — уведомление и предупреждение.",
                code="not_legal",
            )
        deadline = on + timedelta(days=settings.CLAIM_PAYMENT_DAYS)
        document = _issue(case, DebtDocument.Kind.CLAIM, on=on, by=by, deadline=deadline)
        if case.stage in (Stage.OVERDUE, Stage.NOTIFIED):
            _move(case, Stage.CLAIM_SENT, on=on, reason=f"Претензия № {document.number}", by=by)
        return document


def warn_restriction(*, case_id: int, on: date, by: User | None = None) -> DebtDocument:
    """The written warning before restriction (ПП 354 п. 119; 416-ФЗ ст. 21)."""
    with transaction.atomic():
        case = _open_case(case_id)
        _refuse_if_paused(case, on=on)
        if case.stage not in (Stage.OVERDUE, Stage.NOTIFIED, Stage.CLAIM_SENT):
            raise ValidationError(
                "Предупреждение возможно до ограничения и суда; стадия дела: %(stage)s.",
                code="wrong_stage",
                params={"stage": case.get_stage_display().lower()},
            )
        problem = _restriction_refusal(case, on=on)
        if problem:
            raise ValidationError(
                "Ограничение невозможно: %(p)s.", code="not_allowed", params={"p": problem}
            )
        document = _issue(case, DebtDocument.Kind.WARNING, on=on, by=by)
        _move(
            case,
            Stage.RESTRICTION_WARNED,
            on=on,
            reason=f"Предупреждение № {document.number}",
            by=by,
        )
        return document


def record_delivery(
    *, document_id: int, method: str, sent_on: date, delivered_on: date | None = None
) -> DebtDocument:
    """How and when a document reached the debtor: legal terms run from delivery."""
    if method not in DebtDocument.Delivery.values:
        raise ValidationError("Неизвестный способ доставки.", code="bad_method")
    if delivered_on and delivered_on < sent_on:
        raise ValidationError("Дата вручения раньше даты отправки.", code="bad_dates")
    with transaction.atomic():
        document = DebtDocument.objects.select_for_update().get(pk=document_id)
        document.delivery, document.sent_on, document.delivered_on = method, sent_on, delivered_on
        document.save(update_fields=["delivery", "sent_on", "delivered_on"])
        return document


def restrict(*, case_id: int, method: str, on: date, by: User | None = None) -> Restriction:
    """Order the crew to restrict service: only after the warning's term has run out from
    its delivery, and only while restriction is still allowed."""
    with transaction.atomic():
        case = _open_case(case_id)
        _refuse_if_paused(case, on=on)
        if case.stage != Stage.RESTRICTION_WARNED:
            raise ValidationError("Сначала нужно предупредить должника.", code="not_warned")
        warning = (
            case.documents.filter(kind=DebtDocument.Kind.WARNING)
            .order_by("-issued_on", "-pk")
            .first()
        )
        if warning is None or warning.delivered_on is None:
            raise ValidationError(
                "Предупреждение не вручено: срок до ограничения считается со дня вручения.",
                code="not_delivered",
            )
        allowed_on = warning.delivered_on + timedelta(days=_warning_days(case))
        if on < allowed_on:
            raise ValidationError(
                "Ограничить подачу можно не ранее %(day)s (срок предупреждения со дня вручения).",
                code="too_early",
                params={"day": f"{allowed_on:%d.%m.%Y}"},
            )
        problem = _restriction_refusal(case, on=on)
        if problem:
            raise ValidationError(
                "Ограничение невозможно: %(p)s.", code="not_allowed", params={"p": problem}
            )
        restriction = Restriction.objects.create(case=case, method=method, ordered_on=on)
        document = _issue(case, DebtDocument.Kind.RESTRICT_ORDER, on=on, by=by)
        _move(case, Stage.RESTRICTED, on=on, reason=f"Наряд № {document.number}", by=by)
        return restriction


def record_restricted(*, restriction_id: int, restricted_on: date) -> Restriction:
    """The crew reports the restriction done."""
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction_id)
        if restricted_on < restriction.ordered_on:
            raise ValidationError("Дата ограничения раньше наряда.", code="bad_dates")
        restriction.restricted_on = restricted_on
        restriction.save(update_fields=["restricted_on"])
        return restriction


def record_restored(*, restriction_id: int, restored_on: date) -> Restriction:
    """The crew reports service restored (within 2 days of full payment, ПП 354 п. 120)."""
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction_id)
        if restriction.restore_ordered_on is None:
            raise ValidationError("Наряд на возобновление не выдавался.", code="no_order")
        restriction.restored_on = restored_on
        restriction.save(update_fields=["restored_on"])
        return restriction


def go_to_court(*, case_id: int, court: str, on: date, by: User | None = None) -> CourtCase:
    """An application for a court order (individuals, ГПК РФ ст. 121-122) or a statement of
    claim (organisations: no earlier than 30 days after the claim was sent, АПК РФ ст. 4 ч. 5),
    with the state fee computed from the scale."""
    with transaction.atomic():
        case = _open_case(case_id)
        _refuse_if_paused(case, on=on)
        if case.stage in (Stage.IN_COURT, Stage.ENFORCEMENT):
            raise ValidationError("Дело уже в суде.", code="in_court")
        legal = case.account.subscriber.is_legal_entity
        if legal:
            claim = (
                case.documents.filter(kind=DebtDocument.Kind.CLAIM, sent_on__isnull=False)
                .order_by("-sent_on")
                .first()
            )
            if claim is None:
                raise ValidationError(
                    f"Без отправленной претензии обращаться в суд нельзя ({LAW['claim_before_court_short']}).",
                    code="no_claim",
                )
            allowed_on = claim.sent_on + timedelta(days=settings.COURT_AFTER_CLAIM_DAYS)
            if on < allowed_on:
                raise ValidationError(
                    "В суд можно обратиться не ранее %(day)s: 30 дней после отправки претензии.",
                    code="too_early",
                    params={"day": f"{allowed_on:%d.%m.%Y}"},
                )
        kind = DebtDocument.Kind.STATEMENT_OF_CLAIM if legal else DebtDocument.Kind.COURT_ORDER
        document = _issue(case, kind, on=on, by=by)
        court_case = CourtCase.objects.create(
            case=case,
            kind=CourtCase.Kind.CLAIM if legal else CourtCase.Kind.COURT_ORDER,
            court=court,
            filed_on=on,
            debt_claimed=document.debt,
            penalty_claimed=document.penalty,
            state_fee=Decimal(document.data["state_fee"]),
        )
        _move(
            case,
            Stage.IN_COURT,
            on=on,
            reason=f"{document.get_kind_display()} № {document.number}",
            by=by,
        )
        return court_case


def record_decision(
    *,
    court_case_id: int,
    decision: str,
    decided_on: date,
    awarded: Decimal | None,
    by: User | None = None,
) -> CourtCase:
    with transaction.atomic():
        court_case = (
            CourtCase.objects.select_for_update().select_related("case").get(pk=court_case_id)
        )
        court_case.decision, court_case.decided_on = decision, decided_on
        court_case.awarded = to_kopecks(awarded) if awarded is not None else None
        court_case.save(update_fields=["decision", "decided_on", "awarded"])
        CaseEvent.objects.create(
            case=court_case.case,
            on=decided_on,
            from_stage=court_case.case.stage,
            to_stage=court_case.case.stage,
            reason=f"Решение суда: {court_case.get_decision_display().lower()}",
            debt=court_case.case.debt,
            by=by,
        )
        return court_case


def start_enforcement(
    *,
    court_case_id: int,
    writ_number: str,
    enforcement_number: str,
    started_on: date,
    by: User | None = None,
) -> CourtCase:
    with transaction.atomic():
        court_case = (
            CourtCase.objects.select_for_update().select_related("case").get(pk=court_case_id)
        )
        if court_case.decision not in (CourtCase.Decision.GRANTED, CourtCase.Decision.PARTIAL):
            raise ValidationError(
                "Исполнение возможно только по решению в пользу Водоканала.", code="no_decision"
            )
        court_case.writ_number = writ_number
        court_case.enforcement_number = enforcement_number
        court_case.enforcement_started_on = started_on
        court_case.save(
            update_fields=["writ_number", "enforcement_number", "enforcement_started_on"]
        )
        case = DebtCase.objects.select_for_update().get(pk=court_case.case_id)
        _move(case, Stage.ENFORCEMENT, on=started_on, reason=f"ИП № {enforcement_number}", by=by)
        return court_case


def write_off(*, case_id: int, reason: str, on: date, by: User) -> DebtCase:
    if not reason.strip():
        raise ValidationError("Укажите основание списания.", code="no_reason")
    with transaction.atomic():
        case = _open_case(case_id)
        _move(case, Stage.WRITTEN_OFF, on=on, reason=reason.strip(), by=by)
        case.closed_on = on
        case.save(update_fields=["closed_on"])
        return case


# --- Instalments ---


def sign_agreement(
    *,
    case_id: int,
    number: str,
    signed_on: date,
    schedule: list[tuple[date, Decimal]],
    by: User | None = None,
) -> InstallmentAgreement:
    """An instalment agreement: the stages pause while it is kept."""
    if not schedule:
        raise ValidationError("График платежей пуст.", code="empty")
    if any(amount <= ZERO for _, amount in schedule):
        raise ValidationError("Платежи по графику должны быть больше нуля.", code="bad_amount")
    if any(due < signed_on for due, _ in schedule):
        raise ValidationError("Срок платежа раньше даты соглашения.", code="bad_dates")
    with transaction.atomic():
        case = _open_case(case_id)
        if case.agreements.filter(status=InstallmentAgreement.Status.ACTIVE).exists():
            raise ValidationError("По делу уже действует соглашение.", code="active_exists")
        agreement = InstallmentAgreement.objects.create(
            case=case,
            number=number,
            signed_on=signed_on,
            total=sum((to_kopecks(amount) for _, amount in schedule), ZERO),
            created_by=by,
        )
        Instalment.objects.bulk_create(
            Instalment(agreement=agreement, due_on=due, amount=to_kopecks(amount))
            for due, amount in sorted(schedule)
        )
        _note(
            case,
            on=signed_on,
            reason=f"Соглашение о рассрочке № {number}: стадии приостановлены",
            by=by,
        )
        return agreement


def _check_agreements(*, on: date) -> None:
    """A missed instalment breaks the agreement and resumes the stages; all paid completes it."""
    for agreement in InstallmentAgreement.objects.filter(
        status=InstallmentAgreement.Status.ACTIVE
    ).select_related("case"):
        progress = selectors.agreement_progress(agreement, on=on)
        if progress.missed:
            agreement.status, agreement.ended_on = InstallmentAgreement.Status.BROKEN, on
            agreement.save(update_fields=["status", "ended_on"])
            _note(
                agreement.case,
                on=on,
                reason=f"Соглашение № {agreement.number} нарушено: работа по делу возобновлена",
                by=None,
            )
        elif progress.paid >= agreement.total:
            agreement.status, agreement.ended_on = InstallmentAgreement.Status.COMPLETED, on
            agreement.save(update_fields=["status", "ended_on"])
            _note(
                agreement.case, on=on, reason=f"Соглашение № {agreement.number} исполнено", by=None
            )


# --- Helpers ---


def _open_case(case_id: int) -> DebtCase:
    case = (
        DebtCase.objects.select_for_update().select_related("account__subscriber").get(pk=case_id)
    )
    if case.stage in FINAL_STAGES:
        raise ValidationError("Дело закрыто.", code="closed")
    return case


def _refuse_if_paused(case: DebtCase, *, on: date) -> None:
    agreement = case.agreements.filter(status=InstallmentAgreement.Status.ACTIVE).first()
    if agreement and not selectors.agreement_progress(agreement, on=on).missed:
        raise ValidationError(
            "Действует соглашение о рассрочке № %(n)s: работа по делу приостановлена.",
            code="paused",
            params={"n": agreement.number},
        )


def _warning_days(case: DebtCase) -> int:
    if case.account.subscriber.is_legal_entity:
        return settings.LEGAL_RESTRICTION_NOTICE_DAYS
    return settings.RESTRICTION_WARNING_DAYS


def _restriction_refusal(case: DebtCase, *, on: date) -> str:
    """Why service may not be restricted now ('' when it may): docs/penalties.md §8."""
    subscriber = case.account.subscriber
    if subscriber.is_legal_entity:
        if subscriber.socially_important:
            return "социально значимый объект ограничивается только в особом порядке"
        if case.months_overdue <= 2:
            return "не оплачено не более двух расчётных периодов"
        return ""
    threshold = 2 * billing_selectors.norm_monthly_charge(case.account, on=on)
    if case.debt <= threshold:
        return (
            f"долг {rub(case.debt)} не превышает двух месячных начислений по нормативу "
            f"({rub(threshold)})"
        )
    return ""


def _move(case: DebtCase, to: Stage, *, on: date, reason: str, by: User | None) -> None:
    from_stage = case.stage
    case.stage = to
    case.save(update_fields=["stage"])
    _event(case, on=on, to=to, reason=reason, from_stage=from_stage, by=by)


def _note(case: DebtCase, *, on: date, reason: str, by: User | None) -> None:
    _event(case, on=on, to=case.stage, reason=reason, from_stage=case.stage, by=by)


def _event(
    case: DebtCase, *, on: date, to: str, reason: str, from_stage: str, by: User | None = None
) -> None:
    CaseEvent.objects.create(
        case=case, on=on, from_stage=from_stage, to_stage=to, reason=reason, debt=case.debt, by=by
    )


def _issue(
    case: DebtCase,
    kind: str,
    *,
    on: date,
    by: User | None,
    period: Period | None = None,
    deadline: date | None = None,
) -> DebtDocument:
    """Create a document with the exact figures of the day, and queue its rendering."""
    figures = selectors.case_figures(case, on=on)
    data = figures.as_json()
    if kind in (DebtDocument.Kind.COURT_ORDER, DebtDocument.Kind.STATEMENT_OF_CLAIM):
        claim = figures.debt + figures.penalty
        scale = selectors.fee_scale(
            "general" if kind == DebtDocument.Kind.COURT_ORDER else "arbitrazh"
        )
        fee = (
            court_order_fee(claim, scale)
            if kind == DebtDocument.Kind.COURT_ORDER
            else state_fee(claim, scale)
        )
        data["state_fee"] = str(fee)
    if kind == DebtDocument.Kind.WARNING:
        data["warning_days"] = _warning_days(case)
    document = DebtDocument.objects.create(
        case=case,
        kind=kind,
        period=period,
        issued_on=on,
        debt=figures.debt,
        penalty=figures.penalty,
        deadline=deadline,
        data=data,
        created_by=by,
    )
    document.number = f"{on:%y%m}-{document.pk}"
    document.save(update_fields=["number"])
    tasks.render_document.delay_on_commit(document.pk)
    return document
