"""Debt collection: cases and their stages, documents, instalments, court cases, restrictions
and the published lists (docs/architecture.md §9; docs/penalties.md §8, §9; docs/formats.md §4).

A case is opened per account when its debt becomes overdue and walks through explicit
stages; every move is a service with its legal preconditions, recorded as a CaseEvent.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import PersonalAccount, Subscriber
from billing.models import Period
from vodokanal.common import clock

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class Stage(models.TextChoices):
    OVERDUE = "overdue", "Просрочка"
    NOTIFIED = "notified", "Уведомлён"
    CLAIM_SENT = "claim_sent", "Направлена претензия"
    RESTRICTION_WARNED = "restriction_warned", "Предупреждён об ограничении"
    RESTRICTED = "restricted", "Подача ограничена"
    IN_COURT = "in_court", "В суде"
    ENFORCEMENT = "enforcement", "Исполнительное производство"
    CLOSED = "closed", "Закрыто"
    WRITTEN_OFF = "written_off", "Списано"


FINAL_STAGES = (Stage.CLOSED, Stage.WRITTEN_OFF)


class DebtCase(models.Model):
    """The collection case of one account; one open case per account at a time."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="debt_cases", verbose_name="л/с"
    )
    stage = models.CharField("стадия", max_length=20, choices=Stage.choices, default=Stage.OVERDUE)
    opened_on = models.DateField("открыто")
    closed_on = models.DateField("закрыто", null=True, blank=True)
    # Figures of the last update (the ledger stays the truth; these sort and filter lists).
    debt = models.DecimalField("просроченный долг", default=ZERO, **MONEY)
    penalty = models.DecimalField("пени", default=ZERO, **MONEY)
    overdue_since = models.DateField("просрочка с", null=True, blank=True)
    months_overdue = models.PositiveSmallIntegerField("месяцев долга", default=0)
    updated_on = models.DateField("обновлено", default=clock.today)

    class Meta:
        verbose_name = "дело о задолженности"
        verbose_name_plural = "дела о задолженности"
        ordering = ["-debt"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(closed_on__isnull=True),
                name="debt_case_one_open_per_account",
            ),
        ]
        indexes = [models.Index(fields=["stage", "debt"], name="debt_case_stage_debt_idx")]

    def __str__(self) -> str:
        return f"Дело {self.pk}: л/с {self.account.number} ({self.get_stage_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class CaseEvent(models.Model):
    """One move of a case (or a note on it): the case's full history."""

    case = models.ForeignKey(
        DebtCase,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name="дело о задолженности",
    )
    at = models.DateTimeField(default=clock.now, verbose_name="время")
    on = models.DateField("дата")
    from_stage = models.CharField(
        max_length=20, choices=Stage.choices, blank=True, verbose_name="со стадии"
    )
    to_stage = models.CharField(max_length=20, choices=Stage.choices, verbose_name="на стадию")
    reason = models.CharField("основание", max_length=300)
    debt = models.DecimalField("долг", default=ZERO, **MONEY)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="сотрудник",
    )

    class Meta:
        verbose_name = "событие дела"
        verbose_name_plural = "история дела"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.on:%d.%m.%Y}: {self.get_to_stage_display()}"


class DocumentBatch(models.Model):
    """Documents rendered together, with one print file for the mail house."""

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает"
        READY = "ready", "Готов"

    kind = models.CharField("вид документов", max_length=30)
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="расчётный период",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name="состояние"
    )
    print_file = models.FileField("файл для печати", upload_to="debt-documents/print/", blank=True)
    created_at = models.DateTimeField(default=clock.now, verbose_name="создано")
    rendered_at = models.DateTimeField(null=True, blank=True, verbose_name="сформировано")

    class Meta:
        verbose_name = "пачка документов"
        verbose_name_plural = "пачки документов"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Пачка {self.pk}: {self.kind}"


class DebtDocument(models.Model):
    """A document of a case, rendered to PDF by a worker and stored; delivery recorded,
    because legal terms run from delivery (docs/penalties.md §8)."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "Уведомление о задолженности"
        CLAIM = "claim", "Претензия"
        WARNING = "warning", "Предупреждение об ограничении"
        RESTRICT_ORDER = "restrict_order", "Наряд на ограничение"
        RESTORE_ORDER = "restore_order", "Наряд на возобновление"
        COURT_ORDER = "court_order", "Заявление о вынесении судебного приказа"
        STATEMENT_OF_CLAIM = "statement_of_claim", "Исковое заявление"

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает формирования"
        READY = "ready", "Сформирован"

    class Delivery(models.TextChoices):
        MAIL = "mail", "Почтой"
        REGISTERED_MAIL = "registered_mail", "Заказным письмом"
        HAND = "hand", "Вручено под подпись"
        EMAIL = "email", "По электронной почте"
        CABINET = "cabinet", "В личном кабинете"
        RECEIPT = "receipt", "В платёжном документе"

    case = models.ForeignKey(
        DebtCase,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name="дело о задолженности",
    )
    kind = models.CharField("вид", max_length=30, choices=Kind.choices)
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="расчётный период",
    )
    number = models.CharField("номер", max_length=30, blank=True)
    issued_on = models.DateField("дата документа", default=clock.today)
    debt = models.DecimalField("долг", default=ZERO, **MONEY)
    penalty = models.DecimalField("пени", default=ZERO, **MONEY)
    deadline = models.DateField("срок оплаты", null=True, blank=True)
    data = models.JSONField("расчёт (по месяцам, пени)", default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name="состояние"
    )
    batch = models.ForeignKey(
        DocumentBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name="пачка",
    )
    pdf = models.FileField(upload_to="debt-documents/%Y/%m/", blank=True, verbose_name="файл PDF")
    rendered_at = models.DateTimeField(null=True, blank=True, verbose_name="сформировано")
    emailed_at = models.DateTimeField("отправлен на e-mail", null=True, blank=True)
    delivery = models.CharField(
        "способ доставки", max_length=20, choices=Delivery.choices, blank=True
    )
    sent_on = models.DateField("отправлен", null=True, blank=True)
    delivered_on = models.DateField("вручён", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="создал",
    )

    class Meta:
        verbose_name = "документ по задолженности"
        verbose_name_plural = "документы по задолженности"
        ordering = ["-issued_on", "-pk"]
        constraints = [
            # A rerun of the monthly step sends no second notice for the same month.
            models.UniqueConstraint(
                fields=["case", "kind", "period"],
                condition=Q(kind="notice"),
                name="debt_document_one_notice_a_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number or self.pk} от {self.issued_on:%d.%m.%Y}"


class InstallmentAgreement(models.Model):
    """An agreed schedule of payments (соглашение о рассрочке). While kept, the case's stages
    pause and no new documents go out; a missed instalment resumes them."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Действует"
        COMPLETED = "completed", "Исполнено"
        BROKEN = "broken", "Нарушено"

    case = models.ForeignKey(
        DebtCase,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name="дело о задолженности",
    )
    number = models.CharField("номер", max_length=30)
    signed_on = models.DateField("заключено")
    total = models.DecimalField("сумма долга по соглашению", **MONEY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, verbose_name="состояние"
    )
    ended_on = models.DateField("прекращено", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="создал",
    )

    class Meta:
        verbose_name = "соглашение о рассрочке"
        verbose_name_plural = "соглашения о рассрочке"
        ordering = ["-signed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="active"), name="one_active_agreement"
            ),
        ]

    def __str__(self) -> str:
        return f"Соглашение № {self.number} от {self.signed_on:%d.%m.%Y}"


class Instalment(models.Model):
    agreement = models.ForeignKey(
        InstallmentAgreement,
        on_delete=models.CASCADE,
        related_name="instalments",
        verbose_name="соглашение о рассрочке",
    )
    due_on = models.DateField("срок")
    amount = models.DecimalField("сумма", **MONEY)

    class Meta:
        verbose_name = "платёж по графику"
        verbose_name_plural = "график платежей"
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"{self.amount} до {self.due_on:%d.%m.%Y}"


class CourtCase(models.Model):
    """A court order or a claim: the court, the case number, dates, amounts, the decision and
    its enforcement."""

    class Kind(models.TextChoices):
        COURT_ORDER = "court_order", "Судебный приказ (мировой судья)"
        CLAIM = "claim", "Иск (арбитражный суд)"

    class Decision(models.TextChoices):
        PENDING = "pending", "Не рассмотрено"
        GRANTED = "granted", "Удовлетворено"
        PARTIAL = "partial", "Удовлетворено частично"
        REFUSED = "refused", "Отказано"
        CANCELLED = "cancelled", "Приказ отменён"

    case = models.ForeignKey(
        DebtCase,
        on_delete=models.PROTECT,
        related_name="court_cases",
        verbose_name="дело о задолженности",
    )
    kind = models.CharField("вид", max_length=20, choices=Kind.choices)
    court = models.CharField("суд", max_length=300)
    number = models.CharField("номер дела", max_length=50, blank=True)
    filed_on = models.DateField("подано")
    debt_claimed = models.DecimalField("долг, заявлено", **MONEY)
    penalty_claimed = models.DecimalField("пени, заявлено", **MONEY)
    state_fee = models.DecimalField("госпошлина", **MONEY)
    hearing_on = models.DateField("заседание", null=True, blank=True)
    decision = models.CharField(
        "решение", max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    decided_on = models.DateField("дата решения", null=True, blank=True)
    awarded = models.DecimalField("взыскано по решению", null=True, blank=True, **MONEY)
    writ_number = models.CharField("исполнительный документ", max_length=50, blank=True)
    enforcement_number = models.CharField("исполнительное производство", max_length=50, blank=True)
    enforcement_started_on = models.DateField("возбуждено ИП", null=True, blank=True)

    class Meta:
        verbose_name = "судебное дело"
        verbose_name_plural = "судебные дела"
        ordering = ["-filed_on"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number or '—'} ({self.court})"


class Restriction(models.Model):
    """A restriction of service and its restoration, with every date (ПП 354 п. 117-119)."""

    class Method(models.TextChoices):
        REDUCE = "reduce", "Ограничение (снижение подачи) холодной воды"
        PLUG = "plug", "Заглушка на выпуске водоотведения"

    case = models.ForeignKey(
        DebtCase,
        on_delete=models.PROTECT,
        related_name="restrictions",
        verbose_name="дело о задолженности",
    )
    method = models.CharField("способ", max_length=10, choices=Method.choices)
    ordered_on = models.DateField("наряд выдан")
    restricted_on = models.DateField("ограничено", null=True, blank=True)
    restore_ordered_on = models.DateField("наряд на возобновление", null=True, blank=True)
    restored_on = models.DateField("возобновлено", null=True, blank=True)

    class Meta:
        verbose_name = "ограничение подачи"
        verbose_name_plural = "ограничения подачи"
        ordering = ["-ordered_on"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} с {self.ordered_on:%d.%m.%Y}"


class PublishedList(models.Model):
    """A monthly snapshot of a public list: debtor legal entities, or good payers."""

    class Kind(models.TextChoices):
        DEBTORS = "debtors", "Должники — юридические лица"
        GOOD_PAYERS = "good_payers", "Добросовестные плательщики"

    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name="вид")
    snapshot_on = models.DateField("по состоянию на")
    published_at = models.DateTimeField(default=clock.now, verbose_name="опубликовано")
    threshold = models.DecimalField("порог долга", default=ZERO, **MONEY)
    min_days = models.PositiveSmallIntegerField("просрочка более, дней", default=0)

    class Meta:
        verbose_name = "опубликованный список"
        verbose_name_plural = "опубликованные списки"
        ordering = ["-snapshot_on"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "snapshot_on"], name="published_list_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} на {self.snapshot_on:%d.%m.%Y}"


class PublishedEntry(models.Model):
    """An organisation on a published list. Only legal entities ever get here."""

    published_list = models.ForeignKey(
        PublishedList, on_delete=models.CASCADE, related_name="entries", verbose_name="список"
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="+", verbose_name="абонент"
    )
    name = models.CharField("наименование", max_length=300)
    inn = models.CharField("ИНН", max_length=12)
    debt = models.DecimalField("просроченный долг", default=ZERO, **MONEY)
    days_overdue = models.PositiveIntegerField("дней просрочки", default=0)
    removed_at = models.DateTimeField("снят с публикации", null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="исключил",
    )

    class Meta:
        verbose_name = "запись списка"
        verbose_name_plural = "записи списка"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["published_list", "subscriber"], name="published_entry_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StateFeeBand(models.Model):
    """A row of a state-fee scale (НК РФ ст. 333.19, 333.21): data, seeded, editable."""

    class Scale(models.TextChoices):
        GENERAL = "general", "Суды общей юрисдикции (ст. 333.19)"
        ARBITRAZH = "arbitrazh", "Арбитражные суды (ст. 333.21)"

    scale = models.CharField("шкала", max_length=10, choices=Scale.choices)
    up_to = models.DecimalField(
        "цена иска до, ₽ (пусто — без ограничения)", null=True, blank=True, **MONEY
    )
    base = models.DecimalField("фиксированная часть, ₽", **MONEY)
    percent = models.DecimalField("процент", max_digits=5, decimal_places=2, default=ZERO)
    over = models.DecimalField("процент от суммы свыше, ₽", default=ZERO, **MONEY)
    min_fee = models.DecimalField("не менее, ₽", null=True, blank=True, **MONEY)
    max_fee = models.DecimalField("не более, ₽", null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = "ставка госпошлины"
        verbose_name_plural = "шкала госпошлины"
        ordering = ["scale", "up_to"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "up_to"], name="state_fee_band_once"),
        ]

    def __str__(self) -> str:
        limit = f"до {self.up_to}" if self.up_to is not None else "свыше"
        return f"{self.get_scale_display()}: {limit}"


class BulkJob(models.Model):
    """A staff bulk action (send claims, form warnings, hand to court) run by workers, with
    its progress for the admin."""

    class Status(models.TextChoices):
        QUEUED = "queued", "В очереди"
        RUNNING = "running", "Выполняется"
        DONE = "done", "Завершено"

    action = models.CharField("действие", max_length=30)
    case_ids = models.JSONField("дела", default=list)
    params = models.JSONField("параметры", default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name="состояние"
    )
    total = models.PositiveIntegerField("всего", default=0)
    done = models.PositiveIntegerField("выполнено", default=0)
    failed = models.PositiveIntegerField("отказано", default=0)
    errors = models.JSONField("причины отказов", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="создал",
    )
    created_at = models.DateTimeField(default=clock.now, verbose_name="создано")
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name="завершено")

    class Meta:
        verbose_name = "массовое действие"
        verbose_name_plural = "массовые действия"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action}: {self.done + self.failed} из {self.total}"
