"""Meters and their readings (docs/architecture.md §5). Rules live in meters.services.submit_reading."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from vodokanal.common import clock


class Meter(models.Model):
    """A water meter (прибор учёта) of a personal account."""

    class Kind(models.TextChoices):
        COLD = "cold", "Холодная вода"
        HOT = "hot", "Горячая вода"

    class State(models.TextChoices):
        WORKING = "working", "Исправен"
        VERIFICATION_EXPIRED = "verification_expired", "Истёк срок поверки"
        BROKEN = "broken", "Неисправен"
        REMOVED = "removed", "Снят"

    account = models.ForeignKey(
        "accounts.PersonalAccount",
        on_delete=models.PROTECT,
        related_name="meters",
        verbose_name="лицевой счёт",
    )
    serial = models.CharField("заводской номер", max_length=30)
    kind = models.CharField("вид", max_length=10, choices=Kind.choices, default=Kind.COLD)
    # Digits before the decimal point: the counter rolls over to zero after 10**digits - 1.
    digits = models.PositiveSmallIntegerField("разрядность (целая часть)", default=5)
    installed_on = models.DateField("дата установки")
    sealed_on = models.DateField("дата опломбирования", null=True, blank=True)
    verification_due = models.DateField("дата следующей поверки")
    initial_reading = models.DecimalField(
        "начальное показание", max_digits=12, decimal_places=3, default=Decimal("0.000")
    )
    state = models.CharField(
        "состояние", max_length=25, choices=State.choices, default=State.WORKING
    )
    removed_on = models.DateField("дата снятия", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "прибор учёта"
        verbose_name_plural = "приборы учёта"
        constraints = [
            # A serial belongs to one installed meter at a time.
            models.UniqueConstraint(
                fields=["serial"],
                condition=~Q(state="removed"),
                name="meter_serial_unique_installed",
            ),
            models.CheckConstraint(
                condition=Q(digits__gte=3, digits__lte=9), name="meter_digits_in_range"
            ),
        ]
        indexes = [models.Index(fields=["serial"], name="meter_serial_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.serial}"

    def state_on(self, on: date) -> str:
        """The state that counts on a date: a working meter past its verification date is
        'verification expired' even before staff change the field."""
        if self.state == self.State.WORKING and self.verification_due < on:
            return self.State.VERIFICATION_EXPIRED
        return self.state

    @property
    def rollover(self) -> Decimal:
        return Decimal(10) ** self.digits

    @property
    def serial_tail(self) -> str:
        return self.serial[-4:]


class ImportBatch(models.Model):
    """One uploaded file of controllers' readings. The file hash refuses the same file twice."""

    file_name = models.CharField("файл", max_length=255)
    sha256 = models.CharField(max_length=64, unique=True, verbose_name="контрольная сумма SHA-256")
    uploaded_at = models.DateTimeField("загружен", default=clock.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="загрузил",
    )
    rows_total = models.PositiveIntegerField("строк", default=0)
    rows_accepted = models.PositiveIntegerField("принято", default=0)
    rows_rejected = models.PositiveIntegerField("отклонено", default=0)
    # Rejected rows with their reasons, for the downloadable report.
    rejected_rows = models.JSONField("отклонённые строки", default=list, blank=True)

    class Meta:
        verbose_name = "загрузка показаний контролёров"
        verbose_name_plural = "загрузки показаний контролёров"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%d.%m.%Y %H:%M})"


class MeterReading(models.Model):
    """A reading of a meter. Never edited: a newer value in the same month supersedes the
    earlier one (both kept); staff reject a reading with a reason."""

    class Channel(models.TextChoices):
        CABINET = "cabinet", "Личный кабинет"
        PHONE = "phone", "Телефон (автоматическая линия)"
        BANK_REGISTRY = "bank_registry", "Реестр банка"
        OPERATOR = "operator", "Оператор"
        CONTROLLER_IMPORT = "controller_import", "Контролёр (загрузка)"
        METER_REPLACEMENT = "meter_replacement", "Замена счётчика"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Принято"
        REJECTED = "rejected", "Отклонено"
        SUPERSEDED = "superseded", "Заменено новым"

    meter = models.ForeignKey(
        Meter, on_delete=models.PROTECT, related_name="readings", verbose_name="прибор учёта"
    )
    value = models.DecimalField("показание, м³", max_digits=12, decimal_places=3)
    taken_on = models.DateField("дата снятия показаний")
    period = models.DateField("расчётный месяц")  # the 1st of the month the reading is for
    submitted_at = models.DateTimeField("передано", default=clock.now)
    channel = models.CharField("канал", max_length=20, choices=Channel.choices)
    status = models.CharField(
        "статус", max_length=12, choices=Status.choices, default=Status.ACCEPTED
    )
    consumption = models.DecimalField(
        "расход с прошлого показания, м³", max_digits=12, decimal_places=3, default=Decimal("0.000")
    )
    rolled_over = models.BooleanField("переход через ноль", default=False)
    needs_review = models.BooleanField("требует проверки", default=False)
    reason_code = models.CharField("код причины", max_length=40, blank=True)
    reason = models.CharField("причина", max_length=300, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="передал",
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name="загрузка показаний",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "показание"
        verbose_name_plural = "показания"
        constraints = [
            # One accepted reading per meter and month: the rule behind "supersedes", and the
            # guard that two concurrent submissions cannot both win.
            models.UniqueConstraint(
                fields=["meter", "period"],
                condition=Q(status="accepted"),
                name="reading_one_accepted_per_month",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_not_negative"),
            models.CheckConstraint(condition=Q(period__day=1), name="reading_period_is_first_day"),
        ]
        indexes = [
            models.Index(fields=["meter", "-taken_on"], name="reading_meter_taken_idx"),
            models.Index(fields=["period", "status"], name="reading_period_status_idx"),
            models.Index(
                fields=["needs_review"], condition=Q(needs_review=True), name="reading_review_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} м³ от {self.taken_on:%d.%m.%Y}"


class PhoneCall(models.Model):
    """One call to the automatic phone line for readings (docs/phone-line.md §7), with the dialog's
    state kept between the platform's requests. The caller's number is for staff only: it never
    appears on public pages or in logs."""

    class Adapter(models.TextChoices):
        WEBHOOK = "webhook", "HTTP-вебхук"
        AGI = "agi", "Asterisk (FastAGI)"

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", "Идёт"
        COMPLETED = "completed", "Завершён"
        TRANSFERRED = "transferred", "Переведён на оператора"
        HUNG_UP = "hung_up", "Абонент положил трубку"
        FAILED = "failed", "Сбой"

    call_id = models.CharField("идентификатор звонка", max_length=100)
    adapter = models.CharField("подключение", max_length=10, choices=Adapter.choices)
    caller = models.CharField("номер звонящего", max_length=40, blank=True)
    started_at = models.DateTimeField("начало", default=clock.now)
    ended_at = models.DateTimeField("окончание", null=True, blank=True)
    account = models.ForeignKey(
        "accounts.PersonalAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="phone_calls",
        verbose_name="лицевой счёт",
    )
    outcome = models.CharField(
        "итог", max_length=12, choices=Outcome.choices, default=Outcome.IN_PROGRESS
    )
    readings_stored = models.PositiveSmallIntegerField("сохранено показаний", default=0)
    retries = models.PositiveSmallIntegerField("повторных вопросов", default=0)
    state = models.JSONField("состояние диалога", default=dict, blank=True)

    class Meta:
        verbose_name = "звонок на линию показаний"
        verbose_name_plural = "звонки на линию показаний"
        ordering = ["-started_at"]
        constraints = [
            # The platform may repeat a request: one row per call of each platform.
            models.UniqueConstraint(
                fields=["adapter", "call_id"], name="phonecall_once_per_platform_call"
            ),
        ]
        indexes = [models.Index(fields=["started_at"], name="phonecall_started_idx")]

    def __str__(self) -> str:
        return f"Звонок {self.call_id} от {timezone.localtime(self.started_at):%d.%m.%Y %H:%M}"


class PhoneTurn(models.Model):
    """One exchange of a phone call: what the caller said or typed, what the line understood,
    what it said back, and the reading stored, if any. The recording is kept only when
    settings.VOICE_KEEP_RECORDINGS allows it."""

    call = models.ForeignKey(
        PhoneCall, on_delete=models.CASCADE, related_name="turns", verbose_name="звонок"
    )
    n = models.PositiveSmallIntegerField("№")
    event = models.CharField("событие", max_length=10)
    heard_text = models.TextField("услышано", blank=True)
    heard_digits = models.CharField("нажато", max_length=40, blank=True)
    understood = models.CharField("понято", max_length=100, blank=True)
    problem = models.CharField("причина повтора", max_length=40, blank=True)
    prompt = models.TextField("сказано абоненту", blank=True)
    action = models.CharField("действие", max_length=10)
    reading = models.ForeignKey(
        MeterReading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="сохранённое показание",
    )
    recording = models.FileField("запись", upload_to="voice/%Y/%m/", blank=True)
    created_at = models.DateTimeField("время", default=clock.now)

    class Meta:
        verbose_name = "шаг звонка"
        verbose_name_plural = "шаги звонка"
        ordering = ["call", "n"]
        constraints = [
            models.UniqueConstraint(fields=["call", "n"], name="phoneturn_once_per_number"),
        ]

    def __str__(self) -> str:
        return f"Шаг {self.n}"
