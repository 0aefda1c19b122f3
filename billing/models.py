"""Billing: tariffs and norms, periods, the append-only ledger, payments, legal rate data
and receipts (design: billing; penalties.md; formats.md section 3).

Amounts are signed in the ledger: a charge or a penalty raises what the subscriber owes
(+), a payment lowers it (-). The balance, the debt by month and its age are derived from the
ledger; nothing else stores them. Closed periods are guarded in the database as well
(migration 0002): their ledger rows can be neither inserted, updated nor deleted.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import PersonalAccount
from meters.models import Meter, MeterReading

MONEY = {"max_digits": 14, "decimal_places": 2}
VOLUME = {"max_digits": 12, "decimal_places": 3}


class Service(models.TextChoices):
    WATER_SUPPLY = "water_supply", "Холодное водоснабжение"
    SEWAGE = "sewage", "Водоотведение"


class Basis(models.TextChoices):
    """How a volume was found (ПП 354 п. 42, 59, 60); printed on the receipt."""

    READINGS = "readings", "по показаниям"
    AVERAGE = "average", "по среднему"
    NORM = "norm", "по нормативу"
    NORM_INCREASED = "norm_increased", "по нормативу с коэффициентом"
    RECALCULATION = "recalculation", "перерасчёт"


class DateRange(Func):
    """daterange(valid_from, valid_to, '[]') for the no-overlap constraints."""

    function = "DATERANGE"
    output_field = DateRangeField()


def _no_overlap(name: str, *fields: str) -> ExclusionConstraint:
    """Two rows for the same thing must not be valid on the same day."""
    return ExclusionConstraint(
        name=name,
        expressions=[
            *((field, RangeOperators.EQUAL) for field in fields),
            (DateRange("valid_from", "valid_to", models.Value("[]")), RangeOperators.OVERLAPS),
        ],
    )


class Tariff(models.Model):
    """Price of one m3 of a service for a tariff category, valid on a range of days.

    Tariffs change mid-year: a month with two tariffs is charged by days (billing run).
    """

    service = models.CharField("услуга", max_length=20, choices=Service.choices)
    category = models.CharField(
        "тарифная группа", max_length=20, choices=PersonalAccount.TariffCategory.choices
    )
    price = models.DecimalField("тариф, ₽ за м³", max_digits=10, decimal_places=2)
    valid_from = models.DateField("действует с")
    valid_to = models.DateField("действует по", null=True, blank=True)
    basis = models.CharField("основание (приказ РЭК)", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "тариф"
        verbose_name_plural = "тарифы"
        ordering = ["service", "category", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="tariff_price_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tariff_range_ordered",
            ),
            _no_overlap("tariff_no_overlap", "service", "category"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()}, {self.get_category_display()}: {self.price} ₽/м³"


class Norm(models.Model):
    """Monthly consumption norm per resident (норматив), for cold or hot water."""

    kind = models.CharField("вода", max_length=10, choices=Meter.Kind.choices)
    volume = models.DecimalField("норматив, м³ в месяц на человека", **VOLUME)
    valid_from = models.DateField("действует с")
    valid_to = models.DateField("действует по", null=True, blank=True)
    basis = models.CharField("основание", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "норматив потребления"
        verbose_name_plural = "нормативы потребления"
        ordering = ["kind", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(volume__gte=0), name="norm_volume_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="norm_range_ordered",
            ),
            _no_overlap("norm_no_overlap", "kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.volume} м³/чел."


class Period(models.Model):
    """A billing month. Open: the billing run may replace its charges. Closed: never edited."""

    class Status(models.TextChoices):
        OPEN = "open", "Открыт"
        CLOSED = "closed", "Закрыт"

    month = models.DateField("месяц", unique=True)  # the 1st of the month
    status = models.CharField("статус", max_length=10, choices=Status.choices, default="open")
    closed_at = models.DateTimeField("закрыт", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "расчётный период"
        verbose_name_plural = "расчётные периоды"
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="period_is_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class BillingRun(models.Model):
    """One run of the monthly billing for a period: its progress and result."""

    class Status(models.TextChoices):
        QUEUED = "queued", "В очереди"
        RUNNING = "running", "Выполняется"
        DONE = "done", "Завершён"
        FAILED = "failed", "Ошибка"

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField("этап", max_length=100, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("создан", default=timezone.now)
    started_at = models.DateTimeField("начат", null=True, blank=True)
    finished_at = models.DateTimeField("завершён", null=True, blank=True)
    accounts = models.PositiveIntegerField("лицевых счетов", default=0)
    charged = models.DecimalField("начислено", default=Decimal("0.00"), **MONEY)
    adjusted = models.DecimalField("перерасчёты", default=Decimal("0.00"), **MONEY)
    penalties = models.DecimalField("пени", default=Decimal("0.00"), **MONEY)
    debtors = models.PositiveIntegerField("должников", default=0)
    debtors_done = models.PositiveIntegerField("пени рассчитаны", default=0)
    error = models.TextField("ошибка", blank=True)

    class Meta:
        verbose_name = "расчёт начислений"
        verbose_name_plural = "расчёты начислений"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Расчёт за {self.period} ({self.get_status_display().lower()})"


class MeterVolume(models.Model):
    """Volume billed for a meter (or, with no meter, for the account) in a run.

    `for_month` is the month the volume belongs to; it differs from the period when a late
    reading is billed, or when an estimate (average, norm) is reversed because readings came
    (`reverses`): those rows become adjustments, the rest the period's charges.
    """

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(BillingRun, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="+")
    meter = models.ForeignKey(
        Meter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Meter.Kind.choices)
    for_month = models.DateField()
    volume = models.DecimalField(**VOLUME)
    basis = models.CharField(max_length=20, choices=Basis.choices)
    reading = models.ForeignKey(
        MeterReading, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )

    class Meta:
        verbose_name = "объём по прибору учёта"
        verbose_name_plural = "объёмы по приборам учёта"
        constraints = [
            # A reading is billed once, whichever run picks it up.
            models.UniqueConstraint(
                fields=["reading"], condition=Q(basis="readings"), name="volume_reading_once"
            ),
        ]
        indexes = [
            models.Index(fields=["period", "account"], name="volume_period_account_idx"),
            models.Index(fields=["meter", "for_month"], name="volume_meter_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.volume} м³ за {self.for_month:%m.%Y} ({self.get_basis_display()})"


class Payment(models.Model):
    """Money received for a personal account (the payment document).

    Append-only: its ledger entry is booked with it; a wrong payment is corrected by an
    adjustment in the open period, never by editing or deleting this row.
    """

    class Source(models.TextChoices):
        CABINET = "cabinet", "Личный кабинет"
        BANK_REGISTRY = "bank_registry", "Реестр банка"
        CASH_DESK = "cash_desk", "Касса"
        OPERATOR = "operator", "Ввод сотрудником"

    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField("сумма", **MONEY)
    paid_on = models.DateField("дата оплаты")  # business date from the bank, Moscow calendar
    received_at = models.DateTimeField("получен", default=timezone.now)
    source = models.CharField("источник", max_length=20, choices=Source.choices)
    external_id = models.CharField("номер операции", max_length=64)
    # The month the payer named (registry field, receipt QR); allocation goes there first.
    for_month = models.DateField("за месяц", null=True, blank=True)
    # Penalties are paid only when the payer says so (penalties.md section 6).
    for_penalty = models.BooleanField("в оплату пени", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "платёж"
        verbose_name_plural = "платежи"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="payment_once_per_source"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(for_month__isnull=True) | Q(for_month__day=1),
                name="payment_month_first_day",
            ),
        ]
        indexes = [models.Index(fields=["account", "paid_on"], name="payment_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.amount} ₽ от {self.paid_on:%d.%m.%Y}"


class LedgerEntry(models.Model):
    """One line of an account's ledger (лицевая карта). Never updated; see the module doc."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Начисление"
        ADJUSTMENT = "adjustment", "Перерасчёт"
        PAYMENT = "payment", "Оплата"
        PENALTY = "penalty", "Пени"
        PENALTY_PAYMENT = "penalty_payment", "Оплата пени"

    PRINCIPAL_KINDS = (Kind.CHARGE, Kind.ADJUSTMENT, Kind.PAYMENT)
    PENALTY_KINDS = (Kind.PENALTY, Kind.PENALTY_PAYMENT)

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="ledger", verbose_name="л/с"
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="entries", verbose_name="период"
    )
    kind = models.CharField("вид", max_length=20, choices=Kind.choices)
    service = models.CharField("услуга", max_length=20, choices=Service.choices, blank=True)
    amount = models.DecimalField("сумма", **MONEY)  # + owed more, - paid or reduced
    volume = models.DecimalField("объём, м³", null=True, blank=True, **VOLUME)
    basis = models.CharField("основание объёма", max_length=20, choices=Basis.choices, blank=True)
    tariff = models.DecimalField("тариф", max_digits=10, decimal_places=4, null=True, blank=True)
    for_month = models.DateField("за месяц")  # the month a correction is for; else the period's
    booked_on = models.DateField("дата")  # business date: payment day, last day of the period
    reason = models.CharField("основание", max_length=300, blank=True)
    reading = models.ForeignKey(
        MeterReading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="показание",
    )
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="entry"
    )
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("записано", default=timezone.now)

    class Meta:
        verbose_name = "запись лицевой карты"
        verbose_name_plural = "лицевая карта (проводки)"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period", "service"],
                condition=Q(kind="charge"),
                name="ledger_one_charge_per_service",
            ),
            models.CheckConstraint(
                condition=~Q(kind="charge") | ~Q(service=""), name="ledger_charge_has_service"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "period"], name="ledger_account_period_idx"),
            models.Index(fields=["period", "kind"], name="ledger_period_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ₽ ({self.period})"


class KeyRate(models.Model):
    """A Bank of Russia key-rate decision (penalties.md section 3)."""

    class Source(models.TextChoices):
        SEED = "seed", "Начальные данные"
        CBR = "cbr", "Сервис Банка России"
        STAFF = "staff", "Ввод сотрудником"

    valid_from = models.DateField("действует с", unique=True)
    rate = models.DecimalField("ставка, % годовых", max_digits=5, decimal_places=2)
    source = models.CharField("источник", max_length=10, choices=Source.choices, default="staff")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "ключевая ставка"
        verbose_name_plural = "ключевые ставки"
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0, rate__lt=100), name="key_rate_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.rate} % с {self.valid_from:%d.%m.%Y}"


class Moratorium(models.Model):
    """Days on which no penalty accrues (penalties.md section 4)."""

    date_from = models.DateField("с")
    date_to = models.DateField("по")
    months_ended_before = models.DateField(
        "только долги за месяцы, закончившиеся до", null=True, blank=True
    )
    basis = models.CharField("основание", max_length=300)
    is_active = models.BooleanField("применяется", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "мораторий на пени"
        verbose_name_plural = "мораторий на пени"
        ordering = ["date_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="moratorium_range_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date_from:%d.%m.%Y}–{self.date_to:%d.%m.%Y}"


class RateCap(models.Model):
    """On these days the key rate used is at most `rate` (penalties.md section 4)."""

    date_from = models.DateField("с")
    date_to = models.DateField("по")
    rate = models.DecimalField("не выше, % годовых", max_digits=5, decimal_places=2)
    basis = models.CharField("основание", max_length=300)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "ограничение ставки"
        verbose_name_plural = "ограничения ставки"
        ordering = ["date_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="rate_cap_range_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"≤ {self.rate} % {self.date_from:%d.%m.%Y}–{self.date_to:%d.%m.%Y}"


class ReceiptBatch(models.Model):
    """Receipts of a period rendered together, with one merged print file for the mail house."""

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает"
        READY = "ready", "Готов"
        FAILED = "failed", "Ошибка"

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="receipt_batches")
    number = models.PositiveIntegerField("номер пачки")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    print_file = models.FileField("файл для печати", upload_to="receipts/print/", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "пачка квитанций"
        verbose_name_plural = "пачки квитанций"
        ordering = ["-period__month", "number"]
        constraints = [
            models.UniqueConstraint(fields=["period", "number"], name="receipt_batch_number"),
        ]

    def __str__(self) -> str:
        return f"Квитанции за {self.period}, пачка {self.number}"


class Receipt(models.Model):
    """The monthly payment document (ЕПД) of an account, as a stored PDF."""

    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="receipts")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="receipts")
    # None: rendered on demand, when the subscriber asked before the batch came to it.
    batch = models.ForeignKey(
        ReceiptBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="receipts"
    )
    total_due = models.DecimalField("к оплате", **MONEY)
    pdf = models.FileField(upload_to="receipts/%Y/%m/", blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "квитанция (ЕПД)"
        verbose_name_plural = "квитанции (ЕПД)"
        ordering = ["-period__month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="receipt_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"ЕПД {self.account.number} за {self.period}"

    @property
    def is_ready(self) -> bool:
        return bool(self.pdf)
