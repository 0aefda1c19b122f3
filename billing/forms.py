"""Staff forms of billing: a payment taken by staff, and a manual correction."""

from django import forms

from accounts.models import PersonalAccount
from billing.models import Payment, Service
from vodokanal.common import clock


class AccountNumberField(forms.CharField):
    """An account number that must exist; cleans to the account."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(label="Лицевой счёт", max_length=10, min_length=10, **kwargs)

    def clean(self, value: str) -> PersonalAccount:  # type: ignore[override]
        number = super().clean(value)
        account = PersonalAccount.objects.filter(number=number).first()
        if account is None:
            raise forms.ValidationError("Лицевой счёт с таким номером не найден.")
        return account


class MonthInput(forms.DateField):
    """A month as "ММ.ГГГГ"."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(input_formats=["%m.%Y"], **kwargs)


class PaymentForm(forms.Form):
    account = AccountNumberField()
    amount = forms.DecimalField(
        label="Сумма, ₽", max_digits=14, decimal_places=2, min_value=0.01, localize=True
    )
    paid_on = forms.DateField(label="Дата оплаты", initial=clock.today)
    source = forms.ChoiceField(
        label="Источник",
        choices=[
            (Payment.Source.CASH_DESK, "Касса"),
            (Payment.Source.OPERATOR, "Ввод сотрудником"),
        ],
    )
    external_id = forms.CharField(
        label="Номер документа (чека, платёжного поручения)", max_length=64
    )
    for_month = MonthInput(label="За месяц (ММ.ГГГГ), если указан плательщиком", required=False)
    for_penalty = forms.BooleanField(label="В оплату пени", required=False)

    def clean_paid_on(self):  # type: ignore[no-untyped-def]
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > clock.today():
            raise forms.ValidationError("Дата оплаты не может быть в будущем.")
        return paid_on


class AdjustmentForm(forms.Form):
    account = AccountNumberField()
    kind = forms.ChoiceField(
        label="Что исправляем",
        choices=[
            (Service.WATER_SUPPLY, "Начисление: холодное водоснабжение"),
            (Service.SEWAGE, "Начисление: водоотведение"),
            ("penalty", "Пени (списание — со знаком минус)"),
        ],
    )
    amount = forms.DecimalField(
        label="Сумма, ₽ (+ доначислить, − уменьшить)",
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    for_month = MonthInput(label="За месяц (ММ.ГГГГ)", required=False)
    reason = forms.CharField(
        label="Основание", max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, kinds: list[str] = ("charge", "penalty"), **kwargs) -> None:  # type: ignore[no-untyped-def]
        """Only the kinds of correction the staff member may book ("charge", "penalty")."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (value, label)
            for value, label in self.fields["kind"].choices
            if ("penalty" if value == "penalty" else "charge") in kinds
        ]


class ActPeriodForm(forms.Form):
    """The date range of a reconciliation act."""

    date_from = forms.DateField(label="С", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="По", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("Дата начала периода позже даты окончания.")
        return data


class StaffActForm(ActPeriodForm):
    account = AccountNumberField(
        help_text="Любой лицевой счёт организации: акт — по всем её счетам."
    )

    field_order = ["account", "date_from", "date_to"]
