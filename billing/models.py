"""Billing: tariffs and norms, periods, the append-only ledger, payments, legal rate data
and receipts (docs/architecture.md §4, §7; docs/penalties.md; docs/formats.md §3).

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
from simple_history.models import HistoricalRecords

from accounts.models import PersonalAccount
from meters.models import Meter, MeterReading
from vodokanal.common import clock

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
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="закрыл",
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

    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="runs", verbose_name="расчётный период"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name="состояние"
    )
    step = models.CharField("этап", max_length=100, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="запустил",
    )
    created_at = models.DateTimeField("создан", default=clock.now)
    # The day the run calculates on: penalties run to it (never past the month's end), and
    # a run for a month may start only from its billing day (services._check_can_run).
    calculated_on = models.DateField("дата расчёта", default=clock.today)
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

    # period and meter lead the composite indexes below: no index of their own.
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name="расчётный период",
    )
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, related_name="+", verbose_name="расчёт начислений"
    )
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="+", verbose_name="лицевой счёт"
    )
    meter = models.ForeignKey(
        Meter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name="прибор учёта",
    )
    kind = models.CharField(max_length=10, choices=Meter.Kind.choices, verbose_name="вид")
    for_month = models.DateField(verbose_name="за месяц")
    volume = models.DecimalField(**VOLUME, verbose_name="объём, м³")
    basis = models.CharField(max_length=20, choices=Basis.choices, verbose_name="основание")
    reading = models.ForeignKey(
        MeterReading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="показание",
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name="отменяет объём",
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
            # The estimates a new reading may reverse (billing.charges, step 3).
            models.Index(
                fields=["meter", "for_month"],
                condition=Q(basis__in=["average", "norm", "norm_increased"], meter__isnull=False),
                name="volume_estimate_meter_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volume} м³ за {self.for_month:%m.%Y} ({self.get_basis_display()})"


def default_registry_columns() -> dict[str, int]:
    """The Sberbank-kind layout of docs/formats.md §1: field -> column (0-based)."""
    return {
        "date": 0, "time": 1, "branch": 2, "office": 3, "operation": 4, "account": 5,
        "payer": 6, "address": 7, "period": 8, "amount": 9, "transferred": 10,
        "commission": 11,
    }  # fmt: skip


def default_summary_columns() -> dict[str, int]:
    """The closing line `=COUNT;TOTAL_PAID;TOTAL_TRANSFERRED;TOTAL_COMMISSION;ORDER;DATE`."""
    return {
        "count": 0, "amount": 1, "transferred": 2, "commission": 3, "order_number": 4,
        "order_date": 5,
    }  # fmt: skip


class PaymentAgent(models.Model):
    """A bank or the post accepting payments for the utility, with its registry format.

    The layout of its files is agreed in its contract, so it is data: encoding, separator,
    date formats, the column of each field, the summary line and where readings start.
    """

    code = models.SlugField("код", max_length=30, unique=True)
    name = models.CharField("наименование", max_length=200)
    encoding = models.CharField("кодировка файла", max_length=20, default="cp1251")
    separator = models.CharField("разделитель полей", max_length=3, default=";")
    date_format = models.CharField("формат даты", max_length=20, default="%d-%m-%Y")
    time_format = models.CharField("формат времени", max_length=20, default="%H-%M-%S", blank=True)
    period_format = models.CharField("формат периода", max_length=20, default="%m%Y")
    columns = models.JSONField("колонки строки платежа", default=default_registry_columns)
    readings_from = models.PositiveSmallIntegerField(
        "показания с колонки", null=True, blank=True, default=12,
        help_text="Номер первой колонки с показаниями «номер счётчика:показание» (с нуля).",
    )  # fmt: skip
    summary_prefix = models.CharField("начало итоговой строки", max_length=3, default="=")
    summary_columns = models.JSONField("колонки итоговой строки", default=default_summary_columns)
    is_active = models.BooleanField("работает", default=True)

    class Meta:
        verbose_name = "платёжный агент"
        verbose_name_plural = "платёжные агенты"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegistryImport(models.Model):
    """One registry file from an agent, imported in one transaction, with its report."""

    agent = models.ForeignKey(
        PaymentAgent,
        on_delete=models.PROTECT,
        related_name="imports",
        verbose_name="платёжный агент",
    )
    file_name = models.CharField("файл", max_length=255)
    sha256 = models.CharField(
        max_length=64, unique=True, verbose_name="контрольная сумма SHA-256"
    )  # the same file twice is refused
    imported_at = models.DateTimeField("загружен", default=clock.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="загрузил",
    )
    order_number = models.CharField("платёжное поручение", max_length=50, blank=True)
    order_date = models.DateField("дата поручения", null=True, blank=True)
    lines = models.PositiveIntegerField("строк", default=0)
    total = models.DecimalField("сумма по реестру", default=Decimal("0.00"), **MONEY)
    booked = models.PositiveIntegerField("учтено", default=0)
    booked_total = models.DecimalField("учтено на сумму", default=Decimal("0.00"), **MONEY)
    skipped = models.PositiveIntegerField("пропущено (уже учтены)", default=0)
    unidentified = models.PositiveIntegerField("невыясненных", default=0)
    unidentified_total = models.DecimalField(
        "невыясненные на сумму", default=Decimal("0.00"), **MONEY
    )
    readings = models.PositiveIntegerField("показаний принято", default=0)
    report = models.JSONField("протокол по строкам", default=list, blank=True)

    class Meta:
        verbose_name = "реестр платежей"
        verbose_name_plural = "реестры платежей"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.agent}: {self.file_name}"


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

    # account and agent lead the composite indexes below: no index of their own.
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
        verbose_name="лицевой счёт",
    )
    amount = models.DecimalField("сумма", **MONEY)
    paid_on = models.DateField("дата оплаты")  # business date from the bank, Moscow calendar
    received_at = models.DateTimeField("получен", default=clock.now)
    source = models.CharField("источник", max_length=20, choices=Source.choices)
    external_id = models.CharField("номер операции", max_length=64)
    # The month the payer named (registry field, receipt QR); allocation goes there first.
    for_month = models.DateField("за месяц", null=True, blank=True)
    # Penalties are paid only when the payer says so (docs/penalties.md §6).
    for_penalty = models.BooleanField("в оплату пени", default=False)
    agent = models.ForeignKey(
        PaymentAgent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        db_index=False,
        verbose_name="платёжный агент",
    )
    registry = models.ForeignKey(
        RegistryImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="реестр платежей",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # partial index below
        verbose_name="создал",
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
        indexes = [
            models.Index(fields=["account", "paid_on"], name="payment_account_day_idx"),
            models.Index(fields=["agent", "paid_on"], name="payment_agent_day_idx"),
            # Staff book few payments: the index of who booked one holds those rows only,
            # and a registry's 100 000 payments do not write to it (BENCHMARKS.md).
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="payment_created_by_idx",
            ),
        ]

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

    # account and period lead the composite indexes below: no index of their own (every
    # index costs each row the billing run inserts).
    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="ledger",
        verbose_name="л/с",
        db_index=False,
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name="период",
        db_index=False,
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
    # The references below are empty on most rows (a reading only on the adjustments it
    # caused, a run only on charges, a user only on staff entries): partial indexes in Meta.
    reading = models.ForeignKey(
        MeterReading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="показание",
        db_index=False,
    )
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entry",
        verbose_name="платёж",
    )
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name="расчёт начислений",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name="создал",
    )
    created_at = models.DateTimeField("записано", default=clock.now)

    class Meta:
        verbose_name = "запись лицевой карты"
        verbose_name_plural = "лицевая карта (проводки)"
        # Each kind of correction by staff has its own right (billing/permissions.py).
        permissions = [
            ("book_charge_correction", "Может проводить перерасчёт начислений"),
            ("book_penalty_correction", "Может корректировать и списывать пени"),
        ]
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
            models.Index(
                fields=["reading"], condition=Q(reading__isnull=False), name="ledger_reading_idx"
            ),
            models.Index(fields=["run"], condition=Q(run__isnull=False), name="ledger_run_idx"),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="ledger_created_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ₽ ({self.period})"


class KeyRate(models.Model):
    """A Bank of Russia key-rate decision (docs/penalties.md §3)."""

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
    """Days on which no penalty accrues (docs/penalties.md §4)."""

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
    """On these days the key rate used is at most `rate` (docs/penalties.md §4)."""

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

    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="receipt_batches",
        verbose_name="расчётный период",
    )
    number = models.PositiveIntegerField("номер пачки")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name="состояние"
    )
    print_file = models.FileField("файл для печати", upload_to="receipts/print/", blank=True)
    created_at = models.DateTimeField(default=clock.now, verbose_name="создано")
    rendered_at = models.DateTimeField(null=True, blank=True, verbose_name="сформировано")

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

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name="лицевой счёт",
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="receipts", verbose_name="расчётный период"
    )
    # None: rendered on demand, when the subscriber asked before the batch came to it.
    batch = models.ForeignKey(
        ReceiptBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name="пачка",
    )
    total_due = models.DecimalField("к оплате", **MONEY)
    pdf = models.FileField(upload_to="receipts/%Y/%m/", blank=True, verbose_name="файл PDF")
    rendered_at = models.DateTimeField(null=True, blank=True, verbose_name="сформировано")

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


class UnidentifiedPayment(models.Model):
    """A registry line whose account is unknown or closed (невыясненный платёж).

    Nothing is guessed: the money waits here until staff name the right account, and the
    resolution books an ordinary payment with the same operation number.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Не выяснен"
        RESOLVED = "resolved", "Зачислен на счёт"

    agent = models.ForeignKey(
        PaymentAgent, on_delete=models.PROTECT, related_name="+", verbose_name="платёжный агент"
    )
    registry = models.ForeignKey(
        RegistryImport,
        on_delete=models.PROTECT,
        related_name="unidentified_payments",
        verbose_name="реестр платежей",
    )
    line_number = models.PositiveIntegerField("строка")
    external_id = models.CharField("номер операции", max_length=64)
    paid_on = models.DateField("дата оплаты")
    amount = models.DecimalField("сумма", **MONEY)
    account_number = models.CharField("указанный лицевой счёт", max_length=30, blank=True)
    payer = models.CharField("плательщик", max_length=300, blank=True)
    address = models.CharField("адрес", max_length=300, blank=True)
    period = models.CharField("период", max_length=10, blank=True)
    reason = models.CharField("причина", max_length=300)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name="состояние"
    )
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="платёж",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="разобрал",
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name="разобрано")

    class Meta:
        verbose_name = "невыясненный платёж"
        verbose_name_plural = "невыясненные платежи"
        ordering = ["status", "-paid_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "external_id"], name="unidentified_once_per_agent"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="unidentified_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ₽ от {self.paid_on:%d.%m.%Y} (л/с «{self.account_number}»)"


class AccrualRegistry(models.Model):
    """The file of amounts due sent to an agent after the billing run (реестр начислений)."""

    agent = models.ForeignKey(
        PaymentAgent,
        on_delete=models.PROTECT,
        related_name="accruals",
        verbose_name="платёжный агент",
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="accruals", verbose_name="расчётный период"
    )
    file = models.FileField("файл", upload_to="accruals/")
    lines = models.PositiveIntegerField("строк", default=0)
    total = models.DecimalField("сумма к оплате", default=Decimal("0.00"), **MONEY)
    created_at = models.DateTimeField("сформирован", default=clock.now)

    class Meta:
        verbose_name = "реестр начислений"
        verbose_name_plural = "реестры начислений"
        ordering = ["-period__month", "agent__name"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "period"], name="accrual_once_per_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.agent}: начисления за {self.period}"


class OnlinePayment(models.Model):
    """A payment started in the cabinet through an acquirer (YooKassa, or the demo bank).

    Booked once, when the gateway itself confirms it (not when a notification says so).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает оплаты"
        SUCCEEDED = "succeeded", "Оплачен"
        CANCELED = "canceled", "Отменён"

    account = models.ForeignKey(
        PersonalAccount,
        on_delete=models.PROTECT,
        related_name="online_payments",
        verbose_name="лицевой счёт",
    )
    amount = models.DecimalField("сумма", **MONEY)
    for_month = models.DateField("за месяц", null=True, blank=True)
    gateway = models.CharField("платёжный шлюз", max_length=20)
    idempotence_key = models.UUIDField(unique=True, verbose_name="ключ идемпотентности")
    gateway_payment_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        verbose_name="номер платежа в платёжном сервисе",
    )
    confirmation_url = models.URLField(
        max_length=500, blank=True, verbose_name="адрес подтверждения оплаты"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name="состояние"
    )
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online",
        verbose_name="платёж",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="создал"
    )
    created_at = models.DateTimeField(default=clock.now, verbose_name="создано")
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name="завершено")

    class Meta:
        verbose_name = "онлайн-оплата"
        verbose_name_plural = "онлайн-оплаты"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="online_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ₽, л/с {self.account.number} ({self.get_status_display().lower()})"


class PaymentChannel(models.Model):
    """A way to pay or to pass readings, as the public page and the cabinet list it."""

    name = models.CharField("название", max_length=150)
    pays = models.BooleanField("оплата", default=True)
    takes_readings = models.BooleanField("приём показаний", default=False)
    summary = models.CharField("кратко", max_length=300)
    instructions = models.TextField("как пользоваться")
    commission = models.CharField("комиссия", max_length=150, blank=True)
    url = models.URLField("ссылка", blank=True)
    phone = models.CharField("телефон", max_length=40, blank=True)
    # The portal's own phone line for readings: its number is the setting printed on every
    # receipt (UTILITY_READINGS_PHONE), not a copy kept here.
    phone_line = models.BooleanField(
        "автоматическая линия показаний",
        default=False,
        help_text="Телефон берётся из настроек (UTILITY_READINGS_PHONE), как на квитанциях.",
    )
    agent = models.ForeignKey(
        PaymentAgent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="channels",
        verbose_name="платёжный агент",
    )
    order = models.PositiveSmallIntegerField("порядок", default=100)
    is_active = models.BooleanField("показывать", default=True)

    class Meta:
        verbose_name = "способ оплаты и передачи показаний"
        verbose_name_plural = "способы оплаты и передачи показаний"
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name
