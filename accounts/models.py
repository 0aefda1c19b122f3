"""Users, subscribers and their personal accounts (docs/architecture.md §1)."""

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from accounts.validators import (
    validate_account_number,
    validate_inn,
    validate_kpp,
    validate_ogrn,
)
from vodokanal.common import clock
from vodokanal.common.law import LAW

# Link codes avoid look-alike characters (0/O, 1/I/L), because people copy them from paper.
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8


def new_link_code() -> str:
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> "User":
        if not email:
            raise ValueError("The e-mail is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: a subscriber (or their representative) or a member of staff.

    Logs in by e-mail or by phone (accounts.backends.EmailOrPhoneBackend). Self-registered
    users stay inactive until they confirm their e-mail."""

    email = models.EmailField("e-mail", unique=True)
    phone = models.CharField("телефон", max_length=12, blank=True)  # +7XXXXXXXXXX or ""
    full_name = models.CharField("ФИО", max_length=200, blank=True)
    is_staff = models.BooleanField("сотрудник", default=False)
    is_active = models.BooleanField("активен", default=True)
    date_joined = models.DateTimeField("зарегистрирован", default=clock.now)
    email_confirmed_at = models.DateTimeField("e-mail подтверждён", null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "пользователь"
        verbose_name_plural = "пользователи"
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="user_phone_unique_when_set"
            ),
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Subscriber(models.Model):
    """A party to the water supply contract: a person or an organisation."""

    class Kind(models.TextChoices):
        """The four debtor categories of the law on penalties (docs/penalties.md §2)."""

        INDIVIDUAL = "individual", "Физическое лицо"
        HOUSING_COOP = "housing_coop", "ТСЖ, ЖСК, жилищный кооператив"
        MANAGING_ORG = "managing_org", "Управляющая организация (УК)"
        LEGAL = "legal", "Юридическое лицо, ИП"

    kind = models.CharField("вид абонента", max_length=20, choices=Kind.choices)
    # Managing organisations entered before ТСЖ and ЖСК had a kind of their own: staff check
    # each (the admin lists them) and saving the subscriber clears the mark.
    kind_to_check = models.BooleanField(
        "вид проверить (УК или ТСЖ/ЖСК)", default=False, db_default=False
    )
    name = models.CharField("наименование / ФИО", max_length=300)
    short_name = models.CharField("краткое наименование", max_length=200, blank=True)
    inn = models.CharField("ИНН", max_length=12, blank=True, validators=[validate_inn])
    kpp = models.CharField("КПП", max_length=9, blank=True, validators=[validate_kpp])
    ogrn = models.CharField("ОГРН / ОГРНИП", max_length=15, blank=True, validators=[validate_ogrn])
    # An organisation's legal address; a person's or an entrepreneur's address of registration.
    legal_address = models.CharField(
        "юридический адрес / адрес регистрации", max_length=300, blank=True
    )
    # An organisation's head, to whom its documents are addressed ("Генеральный директор",
    # "Иванов Иван Иванович"); without them a document is addressed to the organisation.
    head_position = models.CharField(
        "должность руководителя", max_length=100, blank=True, db_default=""
    )
    head_name = models.CharField("ФИО руководителя", max_length=200, blank=True, db_default="")
    postal_address = models.CharField("почтовый адрес", max_length=300, blank=True)
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("телефон", max_length=30, blank=True)
    contract_number = models.CharField("номер договора", max_length=50, blank=True)
    contract_date = models.DateField("дата договора", null=True, blank=True)
    # Penalties run from the day after the due day of the next month (docs/penalties.md §1).
    due_day = models.PositiveSmallIntegerField("день оплаты", default=10)
    socially_important = models.BooleanField(
        "социально значимый объект",
        default=False,
        help_text=f"Ограничение подачи только в особом порядке ({LAW['socially_important']}).",
    )
    created_at = models.DateTimeField(default=clock.now, editable=False, verbose_name="создано")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "абонент"
        verbose_name_plural = "абоненты"
        indexes = [
            models.Index(fields=["inn"], name="subscriber_inn_idx"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="subscriber_name_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=28), name="subscriber_due_day_in_month"
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def is_legal_entity(self) -> bool:
        return self.kind != self.Kind.INDIVIDUAL

    @property
    def is_entrepreneur(self) -> bool:
        """An individual entrepreneur (ИП): a 12-digit INN (a person's) on a legal entity."""
        return self.is_legal_entity and len(self.inn) == 12

    @property
    def is_organisation(self) -> bool:
        return self.is_legal_entity and not self.is_entrepreneur

    def clean(self) -> None:
        """Legal entities need a valid INN and OGRN; organisations (10-digit INN) a KPP."""
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        if self.is_legal_entity:
            if not self.inn:
                errors["inn"] = "Для юридического лица ИНН обязателен."
            elif len(self.inn) == 10 and not self.kpp:
                errors["kpp"] = "Для организации КПП обязателен."
            if not self.ogrn:
                errors["ogrn"] = "Для юридического лица ОГРН (ОГРНИП) обязателен."
            elif self.inn and len(self.inn) == 10 and len(self.ogrn) != 13:
                errors["ogrn"] = "У организации ОГРН состоит из 13 цифр."
            elif self.inn and len(self.inn) == 12 and len(self.ogrn) != 15:
                errors["ogrn"] = "У индивидуального предпринимателя ОГРНИП состоит из 15 цифр."
        elif self.inn and len(self.inn) != 12:
            errors["inn"] = "ИНН физического лица состоит из 12 цифр."
        if errors:
            raise ValidationError(errors)


class PersonalAccount(models.Model):
    """A personal account (лицевой счёт): one supply point billed monthly."""

    class TariffCategory(models.TextChoices):
        POPULATION = "population", "Население"
        OTHER = "other", "Прочие потребители"

    number = models.CharField(
        "номер лицевого счёта", max_length=10, unique=True, validators=[validate_account_number]
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="accounts", verbose_name="абонент"
    )
    address = models.CharField("адрес", max_length=300)
    residents = models.PositiveSmallIntegerField("проживает (зарегистрировано), чел.", default=1)
    water_supply = models.BooleanField("холодное водоснабжение", default=True)
    sewage = models.BooleanField("водоотведение", default=True)
    # Hot water from the district heating network also leaves through our sewers: its volume
    # (by the hot-water meter, else the norm) counts for sewage (ПП 354 п. 42).
    hot_water = models.BooleanField("есть горячее водоснабжение", default=False)
    tariff_category = models.CharField(
        "тарифная группа",
        max_length=20,
        choices=TariffCategory.choices,
        default=TariffCategory.POPULATION,
    )
    opened_on = models.DateField("открыт", default=clock.today)
    closed_on = models.DateField("закрыт", null=True, blank=True)
    # Printed on every receipt; proves to the cabinet that the user holds the receipt.
    link_code = models.CharField("код для личного кабинета", max_length=12, default=new_link_code)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "лицевой счёт"
        verbose_name_plural = "лицевые счета"
        indexes = [
            # Staff search by a part of the address (admin search uses icontains).
            GinIndex(fields=["address"], opclasses=["gin_trgm_ops"], name="account_address_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(water_supply=True) | Q(sewage=True),
                name="account_has_a_service",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="account_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.address}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def services_display(self) -> str:
        names = []
        if self.water_supply:
            names.append("холодное водоснабжение")
        if self.sewage:
            names.append("водоотведение")
        return ", ".join(names)


class AccountLink(models.Model):
    """A user may see an account once the link is confirmed with the account's code."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="account_links", verbose_name="пользователь"
    )
    account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="links", verbose_name="лицевой счёт"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name="подтверждено")
    created_at = models.DateTimeField(default=clock.now, verbose_name="создано")

    class Meta:
        verbose_name = "привязка лицевого счёта"
        verbose_name_plural = "привязки лицевых счетов"
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="account_link_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.account.number}"
