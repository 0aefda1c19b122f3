"""Reads of debt collection: the exact figures of a case on a day, agreements, fee scales."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing import selectors as billing_selectors
from billing.models import LedgerEntry
from billing.penalties import PenaltyLine
from debtors.court_fees import FeeBand
from debtors.models import CourtCase, DebtCase, InstallmentAgreement, StateFeeBand
from vodokanal.common.money import ZERO


@dataclass(frozen=True)
class CaseFigures:
    """What a document states: overdue debt by month, the penalty line by line (the
    engine's), what of the penalty is already paid or waived, and the totals."""

    on: date
    months: tuple[tuple[date, Decimal], ...]
    penalty_lines: tuple[PenaltyLine, ...]
    penalty_accrued: Decimal
    penalty_settled: Decimal  # paid, waived or corrected by staff (billing PenaltyToDate)
    note: str

    @property
    def debt(self) -> Decimal:
        return sum((amount for _, amount in self.months), ZERO)

    @property
    def penalty(self) -> Decimal:
        return max(self.penalty_accrued + self.penalty_settled, ZERO)

    @property
    def total(self) -> Decimal:
        return self.debt + self.penalty

    def as_json(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "months": [[month.isoformat(), str(amount)] for month, amount in self.months],
            "penalty_lines": [
                {
                    "period": f"{line.month:%Y-%m}",
                    "from": line.date_from.isoformat(),
                    "to": line.date_to.isoformat(),
                    "days": line.days,
                    "debt": str(line.debt),
                    "rate": str(line.rate),
                    "fraction": f"1/{line.denominator}",
                    "amount": str(line.amount),
                }
                for line in self.penalty_lines
            ],
            "penalty_accrued": str(self.penalty_accrued),
            "penalty_settled": str(self.penalty_settled),
            "penalty": str(self.penalty),
            "debt": str(self.debt),
            "total": str(self.total),
            "note": self.note,
        }


def case_figures(case: DebtCase, *, on: date) -> CaseFigures:
    """A case's figures on a day, as the pages show them (billing.selectors.AccountFigures):
    the overdue debt by month and the penalty to that day."""
    figures = billing_selectors.account_figures(case.account, on=on)
    overdue, penalty = figures.overdue, figures.penalty
    return CaseFigures(
        on=on,
        months=overdue.by_month if overdue else (),
        penalty_lines=penalty.result.lines,
        penalty_accrued=penalty.accrued,
        penalty_settled=penalty.settled,
        note=penalty.result.note,
    )


@dataclass(frozen=True)
class AgreementProgress:
    paid: Decimal  # principal paid since the agreement was signed
    due: Decimal  # instalments whose date has passed
    missed: bool


def agreement_progress(agreement: InstallmentAgreement, *, on: date) -> AgreementProgress:
    paid = -(
        LedgerEntry.objects.filter(
            account_id=agreement.case.account_id,
            kind=LedgerEntry.Kind.PAYMENT,
            booked_on__gte=agreement.signed_on,
            booked_on__lte=on,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    due = (
        agreement.instalments.filter(due_on__lt=on).aggregate(total=Sum("amount"))["total"] or ZERO
    )
    return AgreementProgress(paid=paid, due=due, missed=paid < due)


def fee_scale(scale: str) -> list[FeeBand]:
    return [
        FeeBand(band.up_to, band.base, band.percent, band.over, band.min_fee, band.max_fee)
        for band in StateFeeBand.objects.filter(scale=scale)
    ]


def payments_after_decision(court_case: CourtCase) -> QuerySet[LedgerEntry]:
    """The account's ledger payments booked after the court's decision (docs/architecture.md §9)."""
    return LedgerEntry.objects.filter(
        account_id=court_case.case.account_id,
        kind=LedgerEntry.Kind.PAYMENT,
        booked_on__gt=court_case.decided_on,
    ).order_by("booked_on", "pk")
