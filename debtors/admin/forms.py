"""Forms of the staff pages: input shape only; the rules live in debtors.services."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import forms

from debtors.models import (
    CourtCase,
    DebtCase,
    DebtDocument,
    Restriction,
)
from vodokanal.common import clock

# --- Forms: input shape only; the rules live in debtors.services ---


def _date_field(
    label: str, *, required: bool = True, initial: object = None, help_text: str = ""
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        help_text=help_text,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


class CourtForm(forms.Form):
    court = forms.CharField(
        label="Суд",
        max_length=300,
        help_text="Мировой судья — для заявлений о судебном приказе (граждане), арбитражный "
        "суд — для исков к организациям. Отберите дела фильтром «вид абонента».",
    )


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(label="Способ доставки", choices=DebtDocument.Delivery.choices)
    sent_on = _date_field("Дата отправки (передачи)", initial=clock.today)
    delivered_on = _date_field(
        "Дата вручения",
        required=False,
        help_text="Сроки считаются со дня вручения. Вручено лично под подпись — та же дата, "
        "что и передача; пусто — пока не вручено.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Решение",
        choices=[choice for choice in CourtCase.Decision.choices if choice[0] != "pending"],
    )
    decided_on = _date_field("Дата решения")
    awarded = forms.DecimalField(
        label="Взыскано по решению, ₽",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )


class EnforcementForm(forms.Form):
    writ_number = forms.CharField(label="Исполнительный документ (номер)", max_length=50)
    enforcement_number = forms.CharField(label="Исполнительное производство (номер)", max_length=50)
    started_on = _date_field("Дата возбуждения ИП")


class RestrictForm(forms.Form):
    method = forms.ChoiceField(label="Способ ограничения", choices=Restriction.Method.choices)
    on = _date_field("Дата наряда", initial=clock.today)


class RestrictedForm(forms.Form):
    restricted_on = _date_field("Дата ограничения", initial=clock.today)


class RestoredForm(forms.Form):
    restored_on = _date_field("Дата возобновления", initial=clock.today)


class WriteOffForm(forms.Form):
    reason = forms.CharField(label="Основание списания", max_length=300)
    on = _date_field("Дата", initial=clock.today)


class AgreementForm(forms.Form):
    account = forms.CharField(label="Лицевой счёт", max_length=20)
    number = forms.CharField(label="Номер соглашения", max_length=30)
    signed_on = _date_field("Дата соглашения", initial=clock.today)
    schedule = forms.CharField(
        label="График платежей",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text="Каждый платёж на своей строке: «дата;сумма», например «10.05.2025;1500,00».",
    )

    def clean_account(self) -> DebtCase:
        number = self.cleaned_data["account"].strip()
        case = DebtCase.objects.filter(account__number=number, closed_on__isnull=True).first()
        if case is None:
            raise forms.ValidationError("Открытого дела по этому лицевому счёту нет.")
        return case

    def clean_schedule(self) -> list[tuple[date, Decimal]]:
        schedule, errors = [], []
        lines = [line.strip() for line in self.cleaned_data["schedule"].splitlines()]
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            parts = [part.strip() for part in line.split(";")]
            due = _parse_date(parts[0]) if len(parts) == 2 else None
            amount = _parse_amount(parts[1]) if len(parts) == 2 else None
            if due is None or amount is None:
                errors.append(f"Строка {number}: нужно «дд.мм.гггг;сумма», а не «{line}».")
                continue
            schedule.append((due, amount))
        if errors:
            raise forms.ValidationError(errors)
        return schedule


def _parse_date(text: str) -> date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def _parse_amount(text: str) -> Decimal | None:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("₽", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
