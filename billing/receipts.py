"""The monthly receipt (ЕПД): its figures from the ledger, and its PDF (docs/formats.md §3).

Every figure is read from the ledger of periods up to the receipt's month, so the receipt
of the latest period shows exactly the ledger's balance.
"""

import base64
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from accounts.models import PersonalAccount
from billing import requisites
from billing.models import Basis, LedgerEntry, MeterVolume, Period, Service
from billing.penalties import default_due_on
from meters.models import MeterReading
from vodokanal.common import law
from vodokanal.common.money import ZERO
from vodokanal.common.printing.payment_qr import PaymentDetails, build_payload, qr_png
from vodokanal.common.printing.pdf import render_pdf, render_pdfs

TEMPLATE = "billing/pdf/receipt.html"


@dataclass(frozen=True)
class ServiceLine:
    service: str  # label
    volume: Decimal
    basis: str  # label
    tariff: Decimal | None
    charged: Decimal
    recalculated: Decimal

    @property
    def total(self) -> Decimal:
        return self.charged + self.recalculated


@dataclass(frozen=True)
class UsedReading:
    meter: str
    value: Decimal | None
    taken_on: date | None
    volume: Decimal
    basis: str


@dataclass(frozen=True)
class ReceiptData:
    account: PersonalAccount
    month: date
    due_on: date
    lines: list[ServiceLine]
    recalculations: list[LedgerEntry]
    readings: list[UsedReading]
    debt_at_start: Decimal  # principal owed at the start of the month (- is credit)
    payments: list[LedgerEntry]
    paid: Decimal  # principal paid in the month (positive)
    principal_due: Decimal  # debt at start + charges + recalculations - payments
    penalty_at_start: Decimal
    penalty_charged: Decimal
    penalty_paid: Decimal
    penalty_due: Decimal
    payload: str  # the GOST R 56042-2014 QR text
    utility: dict
    penalty_basis: str = ""  # the law that sets this debtor's penalty (vodokanal/common/law.py)

    @property
    def charged(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def to_pay(self) -> Decimal:
        """The sum of the QR code: the principal owed; penalties are paid when the payer
        says so (docs/penalties.md §6), so they are printed apart."""
        return max(self.principal_due, ZERO)

    @property
    def to_pay_with_penalty(self) -> Decimal:
        return self.to_pay + max(self.penalty_due, ZERO)

    @property
    def qr_data_uri(self) -> str:
        """The QR code as a PNG data URI: banks' apps scan the printed image, and a test
        can take the very image back out of the PDF and decode it."""
        return "data:image/png;base64," + base64.b64encode(qr_png(self.payload, scale=4)).decode()


def payee() -> PaymentDetails:
    """The utility's requisites from settings, validated (billing/requisites.py)."""
    utility = requisites.checked(settings.UTILITY)
    return PaymentDetails(
        name=utility["name"],
        personal_acc=utility["bank_account"],
        bank_name=utility["bank_name"],
        bic=utility["bank_bic"],
        corresp_acc=utility["bank_corr_account"],
        payee_inn=utility["inn"],
        kpp=utility["kpp"],
    )


def receipt_data(account: PersonalAccount, period: Period) -> ReceiptData:
    """All figures of the receipt of `account` for `period`, from the ledger."""
    month = period.month
    entries = LedgerEntry.objects.filter(account=account)
    before = entries.filter(period__month__lt=month)
    current = list(
        entries.filter(period=period).select_related("payment").order_by("booked_on", "pk")
    )
    principal = Q(kind__in=LedgerEntry.PRINCIPAL_KINDS)
    penalty = Q(kind__in=LedgerEntry.PENALTY_KINDS)
    starts = before.aggregate(
        principal=Sum("amount", filter=principal), penalty=Sum("amount", filter=penalty)
    )
    debt_at_start = starts["principal"] or ZERO
    penalty_at_start = starts["penalty"] or ZERO

    def total(kinds: tuple[str, ...]) -> Decimal:
        return sum((e.amount for e in current if e.kind in kinds), ZERO)

    lines = []
    for service, label in Service.choices:
        charge = next((e for e in current if e.kind == "charge" and e.service == service), None)
        recalculated = sum(
            (e.amount for e in current if e.kind == "adjustment" and e.service == service), ZERO
        )
        if charge is None and recalculated == ZERO:
            continue
        lines.append(
            ServiceLine(
                service=label,
                volume=charge.volume if charge else ZERO,
                basis=charge.get_basis_display() if charge else "",
                tariff=charge.tariff if charge else None,
                charged=charge.amount if charge else ZERO,
                recalculated=recalculated,
            )
        )
    payments = [e for e in current if e.kind == LedgerEntry.Kind.PAYMENT]
    paid = -total((LedgerEntry.Kind.PAYMENT,))
    principal_due = debt_at_start + total(LedgerEntry.PRINCIPAL_KINDS)
    penalty_charged = total((LedgerEntry.Kind.PENALTY,))
    penalty_paid = -total((LedgerEntry.Kind.PENALTY_PAYMENT,))
    data = ReceiptData(
        account=account,
        month=month,
        due_on=default_due_on(month, day=account.subscriber.due_day),
        penalty_basis=law.penalty_basis(account.subscriber.kind, law.services_of(account)),
        lines=lines,
        recalculations=[e for e in current if e.kind == LedgerEntry.Kind.ADJUSTMENT],
        readings=_readings(account, period),
        debt_at_start=debt_at_start,
        payments=payments,
        paid=paid,
        principal_due=principal_due,
        penalty_at_start=penalty_at_start,
        penalty_charged=penalty_charged,
        penalty_paid=penalty_paid,
        penalty_due=penalty_at_start + penalty_charged - penalty_paid,
        payload="",
        utility=settings.UTILITY,
    )
    return _with_payload(data)


def _with_payload(data: ReceiptData) -> ReceiptData:
    account = data.account
    subscriber = account.subscriber
    names = subscriber.name.split() if not subscriber.is_legal_entity else []
    payload = build_payload(
        payee(),
        sum_=data.to_pay if data.to_pay > ZERO else None,
        purpose=(
            f"Оплата за водоснабжение и водоотведение, л/с {account.number}, {data.month:%m.%Y}"
        ),
        pers_acc=account.number,
        paym_period=data.month,
        payer_last_name=names[0] if len(names) == 3 else "",
        payer_first_name=names[1] if len(names) == 3 else "",
        payer_middle_name=names[2] if len(names) == 3 else "",
        payer_address=account.address,
    )
    return replace(data, payload=payload)


def _readings(account: PersonalAccount, period: Period) -> list[UsedReading]:
    """What each meter's volume of the month rests on: its reading, or the estimate."""
    volumes = (
        MeterVolume.objects.filter(account=account, period=period, for_month=period.month)
        .select_related("meter")
        .order_by("meter__kind", "meter__serial")
    )
    readings = {
        r.meter_id: r
        for r in MeterReading.objects.filter(
            meter__account=account, period=period.month, status=MeterReading.Status.ACCEPTED
        )
    }
    used = []
    for volume in volumes:
        reading = readings.get(volume.meter_id) if volume.basis == Basis.READINGS else None
        meter = (
            f"{volume.meter.get_kind_display()}, № {volume.meter.serial}"
            if volume.meter
            else f"{volume.get_kind_display()}, без счётчика"
        )
        used.append(
            UsedReading(
                meter=meter,
                value=reading.value if reading else None,
                taken_on=reading.taken_on if reading else None,
                volume=volume.volume,
                basis=volume.get_basis_display(),
            )
        )
    return used


def receipt_pdf(data: ReceiptData) -> bytes:
    """The receipt as a one-page PDF."""
    return render_pdf(TEMPLATE, {"r": data})


def render_receipts(items: list[tuple[PersonalAccount, Period]]) -> tuple[list[bytes], bytes]:
    """The receipts as PDF files, one page each: a batch (vodokanal/common/printing/pdf_forms.py)."""
    return render_pdfs(
        TEMPLATE, [{"r": receipt_data(account, period)} for account, period in items]
    )
