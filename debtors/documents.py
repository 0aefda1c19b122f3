"""Debt documents to PDF (docs/formats.md §4): the context each template needs, the render
that a worker runs, and the e-mail that follows it.

A document's figures were fixed when it was issued (DebtDocument.data, written from
debtors.selectors.CaseFigures.as_json); here they are read back into Decimals and dates,
never recomputed, so a PDF rendered a month later states the same amounts.

A second render of a ready document does nothing; a document of a DocumentBatch is rendered
by its batch (debtors.batches.render_batch), which also makes the mail house's print file.
A document is e-mailed once (emailed_at), after commit, by a separate task.
"""

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from accounts.models import AccountLink, PersonalAccount, Subscriber
from billing.receipts import payee
from debtors import batch_tasks
from debtors.models import CourtCase, DebtDocument, Restriction
from meters.models import Meter
from vodokanal.common import clock, law
from vodokanal.common.amount_words import amount_with_words
from vodokanal.common.money import ZERO
from vodokanal.common.printing.payment_qr import build_payload, qr_png
from vodokanal.common.printing.pdf import merge_pdf, render_pdf, render_pdfs
from vodokanal.common.russian import dative_name, dative_position, month_ru, person_of

logger = logging.getLogger(__name__)

Kind = DebtDocument.Kind

#: Documents addressed to the subscriber: shown in the cabinet and e-mailed.
SUBSCRIBER_KINDS = (
    Kind.NOTICE,
    Kind.CLAIM,
    Kind.WARNING,
    Kind.COURT_ORDER,
    Kind.STATEMENT_OF_CLAIM,
)
#: Work orders for the field crew: never shown to or sent to the subscriber.
CREW_KINDS = (Kind.RESTRICT_ORDER, Kind.RESTORE_ORDER)
#: Documents that carry the payment QR code.
QR_KINDS = (Kind.NOTICE, Kind.CLAIM)
#: The crew restores service within two days of full payment (ПП 354 п. 120).
RESTORE_DAYS = 2


@dataclass(frozen=True)
class PenaltyRow:
    """One line of the penalty calculation as the document prints it (docs/penalties.md §5)."""

    month: date
    date_from: date
    date_to: date
    days: int
    debt: Decimal
    rate: Decimal
    fraction: str  # "1/300"
    amount: Decimal

    @property
    def denominator(self) -> int:
        return int(self.fraction.split("/")[1])


@dataclass(frozen=True)
class Figures:
    """DebtDocument.data read back: what the document states, exactly as issued."""

    on: date
    months: tuple[tuple[date, Decimal], ...]
    penalty_lines: tuple[PenaltyRow, ...]
    penalty_accrued: Decimal  # the engine's total on `on`
    penalty_settled: Decimal  # paid or waived (<= 0)
    penalty: Decimal  # what is still owed
    debt: Decimal
    total: Decimal
    note: str
    state_fee: Decimal | None
    warning_days: int | None

    @property
    def months_span(self) -> str:
        """ "январь 2025 — март 2025", or one month, or "" when nothing is overdue."""
        if not self.months:
            return ""
        first, last = month_ru(self.months[0][0]), month_ru(self.months[-1][0])
        return first if first == last else f"{first} — {last}"

    @property
    def with_state_fee(self) -> Decimal:
        """The sum a court is asked to award: the claim's price and the state fee."""
        return self.total + (self.state_fee or ZERO)


@dataclass(frozen=True)
class PaymentQr:
    label: str
    amount: Decimal
    what: str  # what is paid: «Оплата задолженности …» or «Пени»
    reference: str  # of which document and account: «по уведомлению № … от …, л/с …»
    payload: str

    @property
    def purpose(self) -> str:
        """The payment's purpose, as the QR code and the bank carry it."""
        return f"{self.what} {self.reference}"

    @property
    def data_uri(self) -> str:
        """A PNG data URI, as the receipt prints it (a test takes the image back out)."""
        return "data:image/png;base64," + base64.b64encode(qr_png(self.payload, scale=4)).decode()


def parse_figures(document: DebtDocument) -> Figures:
    """The figures of `document.data` as Decimals and dates (CaseFigures.as_json's shape)."""
    data = document.data or {}
    lines = tuple(
        PenaltyRow(
            month=date.fromisoformat(f"{line['period']}-01"),
            date_from=date.fromisoformat(line["from"]),
            date_to=date.fromisoformat(line["to"]),
            days=int(line["days"]),
            debt=Decimal(line["debt"]),
            rate=Decimal(line["rate"]),
            fraction=line["fraction"],
            amount=Decimal(line["amount"]),
        )
        for line in data.get("penalty_lines", [])
    )
    months = tuple(
        (date.fromisoformat(month), Decimal(amount)) for month, amount in data.get("months", [])
    )
    debt = Decimal(data.get("debt", document.debt))
    penalty = Decimal(data.get("penalty", document.penalty))
    return Figures(
        on=date.fromisoformat(data["on"]) if data.get("on") else document.issued_on,
        months=months,
        penalty_lines=lines,
        penalty_accrued=Decimal(data.get("penalty_accrued", penalty)),
        penalty_settled=Decimal(data.get("penalty_settled", "0.00")),
        penalty=penalty,
        debt=debt,
        total=Decimal(data.get("total", debt + penalty)),
        note=data.get("note", ""),
        state_fee=Decimal(data["state_fee"]) if data.get("state_fee") else None,
        warning_days=int(data["warning_days"]) if data.get("warning_days") else None,
    )


def payment_qrs(document: DebtDocument, figures: Figures) -> list[PaymentQr]:
    """The payment QR codes of a notice or a claim (ГОСТ Р 56042-2014, docs/formats.md §2).

    The first pays the overdue debt (the document's principal); penalties are a separate
    debt paid when the payer says so (docs/penalties.md §6), so a second code, whose purpose
    starts with «Пени», pays them. No PaymPeriod: it would name one month, and the debt
    spans several (a payment naming no month goes to the oldest first).
    """
    account = document.case.account
    subscriber = account.subscriber
    names = subscriber.name.split() if not subscriber.is_legal_entity else []
    person = (
        {"payer_last_name": names[0], "payer_first_name": names[1], "payer_middle_name": names[2]}
        if len(names) == 3
        else {}
    )
    extra = {"PayerINN": subscriber.inn} if subscriber.is_legal_entity and subscriber.inn else {}
    title = "претензии" if document.kind == Kind.CLAIM else "уведомлению"
    reference = (
        f"по {title} № {document.number} от {document.issued_on:%d.%m.%Y}, л/с {account.number}"
    )
    codes = []
    for label, amount, what in (
        ("Оплата долга", figures.debt, "Оплата задолженности за водоснабжение и водоотведение"),
        ("Оплата пени", figures.penalty, "Пени"),
    ):
        if amount <= ZERO:
            continue
        payload = build_payload(
            payee(),
            sum_=amount,
            purpose=f"{what} {reference}",
            pers_acc=account.number,
            payer_address=account.address,
            extra=extra,
            **person,
        )
        codes.append(
            PaymentQr(label=label, amount=amount, what=what, reference=reference, payload=payload)
        )
    return codes


def document_context(document: DebtDocument) -> dict:
    """Everything a document template prints (no queries in templates)."""
    case = document.case
    account = case.account
    subscriber = account.subscriber
    figures = parse_figures(document)
    context = {
        "document": document,
        "case": case,
        "account": account,
        "subscriber": subscriber,
        "legal": subscriber.is_legal_entity,
        "penalty_basis": law.penalty_basis(subscriber.kind, law.services_of(account)),
        "penalty_rule": law.RULE[subscriber.kind],
        "utility": settings.UTILITY,
        "payee": payee(),
        "data": document.data,
        "figures": figures,
        "debt_words": amount_with_words(figures.debt),
        "penalty_words": amount_with_words(figures.penalty),
        "total_words": amount_with_words(figures.total),
        "contract_number": subscriber.contract_number,
        "contract_date": subscriber.contract_date,
        "mail_address": _mail_address(account),
        "party": party(account),
        "signatory": getattr(settings, "DEBT_DOCUMENT_SIGNATORY", ""),
        "restriction_costs": _restriction_costs(),
        "qrs": payment_qrs(document, figures) if document.kind in QR_KINDS else [],
    }
    if figures.state_fee is not None:
        context["state_fee_words"] = amount_with_words(figures.state_fee)
        context["with_fee_words"] = amount_with_words(figures.with_state_fee)
    if document.kind in CREW_KINDS:
        context.update(_work_order_context(document, account))
    if document.kind in (Kind.COURT_ORDER, Kind.STATEMENT_OF_CLAIM):
        context.update(_court_context(document))
    return context


def _restriction_costs() -> Decimal | None:
    """The debtor's share of a restriction and restoration (ПП 354 п. 121(1)), if set."""
    costs = getattr(settings, "RESTRICTION_COSTS", "")
    return Decimal(str(costs)) if costs else None


@dataclass(frozen=True)
class Party:
    """The subscriber as a document names it: whom a letter is addressed to (the dative),
    the party of a court paper (the nominative), its identifiers and its address under the
    label that fits (an organisation's legal address, a person's registration)."""

    to: tuple[str, ...]  # «Индивидуальному предпринимателю», «Захарову О. Н.»
    name: str  # «Индивидуальный предприниматель Захаров Олег Николаевич», «ООО „Ромашка“»…
    ids: str  # «ИНН …, КПП …, ОГРН …» or «ИНН …, ОГРНИП …»
    address_label: str
    address: str


def party(account: PersonalAccount) -> Party:
    subscriber = account.subscriber
    inn, kpp, ogrn = subscriber.inn, subscriber.kpp, subscriber.ogrn
    if subscriber.is_entrepreneur:
        person = person_of(subscriber.name)
        return Party(
            to=("Индивидуальному предпринимателю", dative_name(person, short=True)),
            name=f"Индивидуальный предприниматель {person}",
            ids=", ".join([f"ИНН {inn}"] + ([f"ОГРНИП {ogrn}"] if ogrn else [])),
            address_label="Адрес регистрации",
            address=subscriber.legal_address or _mail_address(account),
        )
    if subscriber.is_organisation:
        head = (subscriber.head_position, subscriber.head_name)
        return Party(
            to=(
                (f"{dative_position(head[0])} {subscriber.name}", dative_name(head[1], short=True))
                if all(head)
                else (subscriber.name,)
            ),
            name=subscriber.name,
            ids=", ".join(
                [f"ИНН {inn}"]
                + ([f"КПП {kpp}"] if kpp else [])
                + ([f"ОГРН {ogrn}"] if ogrn else [])
            ),
            address_label="Юридический адрес",
            address=subscriber.legal_address or _mail_address(account),
        )
    return Party(
        to=(dative_name(subscriber.name),),
        name=subscriber.name,
        ids=f"ИНН {inn}" if inn else "",
        address_label="Адрес регистрации" if subscriber.legal_address else "Адрес",
        address=subscriber.legal_address or _mail_address(account),
    )


def _mail_address(account: PersonalAccount) -> str:
    subscriber = account.subscriber
    if subscriber.kind == Subscriber.Kind.INDIVIDUAL:
        return subscriber.postal_address or account.address
    return subscriber.postal_address or subscriber.legal_address or account.address


def _work_order_context(document: DebtDocument, account: PersonalAccount) -> dict:
    """The crew's order: the restriction it is about, the meters, the warning it rests on."""
    restrictions = document.case.restrictions.order_by("-ordered_on", "-pk")
    if document.kind == Kind.RESTORE_ORDER:
        restriction = restrictions.filter(restore_ordered_on__lte=document.issued_on).first()
        deadline = document.issued_on + timedelta(days=RESTORE_DAYS)
    else:
        restriction = restrictions.filter(ordered_on__lte=document.issued_on).first()
        deadline = None
    warning = (
        document.case.documents.filter(kind=Kind.WARNING, issued_on__lte=document.issued_on)
        .order_by("-issued_on", "-pk")
        .first()
    )
    return {
        "restriction": restriction,
        "methods": Restriction.Method.choices,
        "meters": list(
            Meter.objects.filter(account=account)
            .exclude(state=Meter.State.REMOVED)
            .order_by("kind", "serial")
        ),
        "warning": warning,
        "restore_by": deadline,
    }


def _court_context(document: DebtDocument) -> dict:
    """The court case the application opened, and for a claim the pre-trial claim."""
    court_case = (
        CourtCase.objects.filter(case=document.case, filed_on=document.issued_on)
        .order_by("-pk")
        .first()
    )
    claim = (
        document.case.documents.filter(
            kind=Kind.CLAIM, sent_on__isnull=False, issued_on__lte=document.issued_on
        )
        .order_by("-sent_on", "-pk")
        .first()
    )
    notices = list(
        document.case.documents.filter(
            kind__in=(Kind.NOTICE, Kind.WARNING), issued_on__lte=document.issued_on
        ).order_by("issued_on", "pk")
    )
    return {"court_case": court_case, "claim": claim, "earlier": notices}


def template_name(document: DebtDocument) -> str:
    return f"debtors/pdf/{document.kind}.html"


def document_pdf(document: DebtDocument) -> bytes:
    """The document as PDF bytes, with the figures it was issued with."""
    return render_pdf(template_name(document), document_context(document))


def document_pdfs(documents: Sequence[DebtDocument]) -> tuple[list[bytes], bytes]:
    """Documents of a batch as PDF files, in order, and their print file: each template's
    as one batch (vodokanal/common/printing/pdf_forms.py lays out each form once)."""
    by_template: dict[str, list[int]] = {}
    for number, document in enumerate(documents):
        by_template.setdefault(template_name(document), []).append(number)
    files: list[bytes] = [b""] * len(documents)
    print_file = b""
    for name, numbers in by_template.items():
        rendered, print_file = render_pdfs(name, [document_context(documents[n]) for n in numbers])
        for number, data in zip(numbers, rendered, strict=True):
            files[number] = data
    if len(by_template) > 1:  # documents of several kinds: the print file in their order
        print_file = merge_pdf(files)
    return files, print_file


def file_name(document: DebtDocument) -> str:
    return f"{document.kind}-{document.number or document.pk}.pdf"


def render_document(*, document_id: int, in_batch: bool = False) -> None:
    """Render one document to PDF and store it; then queue its e-mail.

    A second run finds it READY and does nothing. A document that belongs to a batch is
    left to the batch's task (it also makes the print file) unless `in_batch`.
    Rendering happens outside the transaction; the state is re-checked under a row lock.
    """
    document = DebtDocument.objects.select_related("case__account__subscriber").get(pk=document_id)
    if document.status == DebtDocument.Status.READY:
        return
    if document.batch_id is not None and not in_batch:
        logger.info("debt document %s is rendered with batch %s", document_id, document.batch_id)
        return
    pdf = document_pdf(document)
    with transaction.atomic():
        document = DebtDocument.objects.select_for_update().get(pk=document_id)
        if document.status == DebtDocument.Status.READY:  # another worker won the race
            return
        store_pdf(document, pdf)
    logger.info("debt document %s rendered", document_id)


def store_pdf(document: DebtDocument, pdf: bytes) -> None:
    """Save a rendered PDF on a locked document and queue its e-mail for after commit."""
    document.pdf.save(file_name(document), ContentFile(pdf), save=False)
    document.status = DebtDocument.Status.READY
    document.rendered_at = clock.now()
    document.save(update_fields=["pdf", "status", "rendered_at"])
    if document.kind in SUBSCRIBER_KINDS:
        batch_tasks.email_document.delay_on_commit(document.pk)


# --- E-mail ---


def recipients(account: PersonalAccount) -> list[str]:
    """The subscriber's e-mail and those of active users with a confirmed link to the
    account, each once (case-insensitive), in that order."""
    found = [account.subscriber.email] if account.subscriber.email else []
    found += AccountLink.objects.filter(
        account=account, confirmed_at__isnull=False, user__is_active=True
    ).values_list("user__email", flat=True)
    unique: dict[str, str] = {}
    for email in found:
        unique.setdefault(email.strip().lower(), email.strip())
    return list(unique.values())


def email_document(*, document_id: int) -> int:
    """E-mail a ready document's PDF to the subscriber and the account's cabinet users.

    Once: emailed_at is claimed with a conditional update before sending (a second run,
    or a second worker, finds it set and sends nothing); if sending fails the claim is
    released and the error raised, so the task retries. One message per recipient, so
    nobody sees another's address. Work orders are never sent. Returns messages sent.
    """
    document = DebtDocument.objects.select_related("case__account__subscriber").get(pk=document_id)
    if (
        document.kind not in SUBSCRIBER_KINDS
        or document.status != DebtDocument.Status.READY
        or document.emailed_at is not None
    ):
        return 0
    to = recipients(document.case.account)
    if not to:
        return 0
    claimed_at = clock.now()
    claimed = DebtDocument.objects.filter(pk=document_id, emailed_at__isnull=True).update(
        emailed_at=claimed_at
    )
    if not claimed:
        return 0
    try:
        with document.pdf.open("rb") as stored:
            pdf = stored.read()
        subject, body = _email_text(document)
        messages = [EmailMessage(subject=subject, body=body, to=[address]) for address in to]
        for message in messages:
            message.attach(file_name(document), pdf, "application/pdf")
        sent = get_connection().send_messages(messages) or 0
    except Exception:
        DebtDocument.objects.filter(pk=document_id, emailed_at=claimed_at).update(emailed_at=None)
        raise
    logger.info("debt document %s e-mailed to %s recipients", document_id, sent)
    return sent


def _email_text(document: DebtDocument) -> tuple[str, str]:
    utility = settings.UTILITY
    account = document.case.account
    title = f"{document.get_kind_display()} № {document.number} от {document.issued_on:%d.%m.%Y}"
    site = settings.SITE_URL.rstrip("/")
    try:
        link = site + reverse("debtors:documents", args=[account.number])
    except NoReverseMatch:
        link = site
    lines = [
        "Здравствуйте!",
        "",
        f"{utility['name']} направляет документ по лицевому счёту № {account.number} "
        f"({account.address}): {title[0].lower()}{title[1:]}. Документ — во вложении (PDF).",
    ]
    if document.deadline:
        lines.append(f"Срок оплаты — до {document.deadline:%d.%m.%Y}.")
    lines += [
        "",
        "Если задолженность уже оплачена, не обращайте внимания на это письмо: оплата "
        "учитывается в течение нескольких рабочих дней.",
        f"Документы по счёту есть и в личном кабинете: {link}",
        "",
        f"Вопросы — по телефону {utility['phone']} ({utility['hours']}) "
        f"или по e-mail {utility['email']}.",
        "",
        f"С уважением, {utility['name']}",
        "Письмо отправлено автоматически, отвечать на него не нужно.",
    ]
    return f"{title} — {utility['short_name']}", "\n".join(lines)
