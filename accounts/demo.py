"""A demo city for `make run`: deterministic, so `seed_demo` is idempotent (docs/architecture.md §11).

Krasnodar streets and plausible names; identifiers carry valid check digits. Later apps add
meters, readings, payments and debts to the same accounts in their own seeding steps."""

import random
from dataclasses import dataclass
from datetime import date

from accounts.validators import is_valid_inn, is_valid_ogrn
from vodokanal.common import clock

DEMO_PASSWORD = "demo12345"  # noqa: S105 - published demo credential, DEBUG only


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    group: str = ""  # staff group, "" for subscribers
    superuser: bool = False


STAFF_LOGINS = [
    DemoLogin("admin@vodokanal.local", "администратор", superuser=True),
    DemoLogin("operator@vodokanal.local", "оператор абонентского отдела", "operator"),
    DemoLogin("accountant@vodokanal.local", "бухгалтер", "accountant"),
    DemoLogin("lawyer@vodokanal.local", "юрист по задолженности", "lawyer"),
]
SUBSCRIBER_LOGINS = [
    DemoLogin("ivanova@example.ru", "абонент, два лицевых счёта"),
    DemoLogin("petrov@example.ru", "абонент, один лицевой счёт"),
    DemoLogin("buh@romashka.example.ru", "юрлицо ООО «Ромашка»"),
    DemoLogin("uk@yug.example.ru", "управляющая организация УК «Юг»"),
]

STREETS = [
    "ул. Красная",
    "ул. Северная",
    "ул. Ставропольская",
    "ул. Гагарина",
    "ул. Чекистов",
    "ул. Одесская",
    "ул. Московская",
    "ул. Уральская",
    "ул. Тургенева",
    "ул. Рашпилевская",
    "ул. Офицерская",
    "ул. Мира",
    "ул. Садовая",
    "ул. Дзержинского",
    "ул. Российская",
    "ул. Зиповская",
    "ул. Бабушкина",
    "ул. Калинина",
    "ул. Селезнёва",
    "ул. Кореновская",
    "ул. Восточно-Кругликовская",
    "ул. Ставропольская",
    "ул. Димитрова",
    "ул. Аэродромная",
    "ул. Старокубанская",
    "Кубанская наб.",
    "ул. Филатова",
    "ул. Школьная",
    "ул. Волжская",
    "ул. Тюляева",
    "ул. Карасунская",
    "ул. Будённого",
    "ул. Трамвайная",
    "ул. Шоссе Нефтяников",
]
MALE_NAMES = [
    "Иван",
    "Сергей",
    "Алексей",
    "Андрей",
    "Дмитрий",
    "Николай",
    "Михаил",
    "Игорь",
    "Владимир",
    "Павел",
    "Олег",
    "Юрий",
    "Виктор",
    "Евгений",
    "Артём",
]
FEMALE_NAMES = [
    "Анна",
    "Ольга",
    "Елена",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Светлана",
    "Мария",
    "Людмила",
    "Галина",
    "Екатерина",
    "Юлия",
    "Марина",
    "Валентина",
    "Дарья",
]
SURNAMES = [
    "Иванов",
    "Петров",
    "Сидоров",
    "Кузнецов",
    "Смирнов",
    "Попов",
    "Васильев",
    "Морозов",
    "Волков",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Павлов",
    "Семенов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Ткаченко",
    "Шевченко",
    "Бондаренко",
    "Коваленко",
    "Кравченко",
    "Мельников",
    "Зайцев",
    "Белов",
]
PATRONYMICS = [
    ("Иванович", "Ивановна"),
    ("Сергеевич", "Сергеевна"),
    ("Алексеевич", "Алексеевна"),
    ("Андреевич", "Андреевна"),
    ("Дмитриевич", "Дмитриевна"),
    ("Николаевич", "Николаевна"),
    ("Михайлович", "Михайловна"),
    ("Игоревич", "Игоревна"),
    ("Владимирович", "Владимировна"),
    ("Павлович", "Павловна"),
    ("Олегович", "Олеговна"),
    ("Юрьевич", "Юрьевна"),
]
# Managing organisations (УК) and housing cooperatives (ТСЖ, ЖСК) buying water for their houses.
MANAGING_ORGS = [
    "ООО «УК Юг»",
    "ООО «УК Комфорт-Краснодар»",
    "ТСЖ «Северная, 12»",
    "ЖСК «Строитель-5»",
    "ООО «УК Гарант»",
    "ТСЖ «Кубанская набережная»",
    "ООО «УК Фестивальный»",
    "ЖСК «Энергетик»",
    "ООО «УК Панорама»",
    "ТСЖ «Чекистов, 21»",
    "ООО «УК Жилсервис»",
    "ТСЖ «Солнечный»",
]
LEGAL_ENTITIES = [
    ("ООО «Ромашка»", False),
    ("АО «Кубаньхлеб»", False),
    ("ООО «Краснодарская пекарня»", False),
    ("ООО «Автомойка на Уральской»", False),
    ("МБОУ СОШ № 12", True),
    ("МБДОУ детский сад № 45", True),
    ("ООО «Торговый дом Кубань»", False),
    ("ООО «Кафе Лето»", False),
    ("АО «Краснодаргазстрой»", False),
    ("ООО «Фитнес-клуб Атлант»", False),
    ("ГБУЗ «Городская поликлиника № 3»", True),
    ("ООО «Прачечная Чистюля»", False),
    ("ООО «Гостиница Екатеринодар»", False),
    ("ООО «Стоматология Улыбка»", False),
    ("ООО «Пивоварня Кубанская»", False),
    ("ООО «Строймаркет»", False),
    ("ООО «Салон красоты Аврора»", False),
    ("ООО «Агроснаб-Юг»", False),
    ("ООО «Медицинский центр Здоровье»", False),
    ("ООО «Ресторан Казачий двор»", False),
    ("ООО «Типография Печатный двор»", False),
    ("ООО «Логистик Кубань»", False),
    ("ООО «Мясокомбинат Славянский»", False),
    ("ООО «Аптека Панацея»", False),
]
ENTREPRENEURS = [
    "ИП Гончаренко Виктор Петрович",
    "ИП Лысенко Марина Олеговна",
    "ИП Захаров Олег Николаевич",
    "ИП Руденко Анна Сергеевна",
]


def person_name(rng: random.Random) -> str:
    surname, (male_patronymic, female_patronymic) = rng.choice(SURNAMES), rng.choice(PATRONYMICS)
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MALE_NAMES)} {male_patronymic}"
    female_surname = surname + ("а" if surname.endswith(("ов", "ев", "ёв", "ин")) else "")
    return f"{female_surname} {rng.choice(FEMALE_NAMES)} {female_patronymic}"


def apartment_address(rng: random.Random) -> str:
    return (
        f"г. Краснодар, {rng.choice(STREETS)}, д. {rng.randint(1, 250)}, кв. {rng.randint(1, 180)}"
    )


def house_address(rng: random.Random) -> str:
    return f"г. Краснодар, {rng.choice(STREETS)}, д. {rng.randint(1, 250)}"


def _with_check_digits(body: str, length: int, is_valid) -> str:  # type: ignore[no-untyped-def]
    """Append the check digit(s) that make `body` a valid identifier of `length` digits."""
    missing = length - len(body)
    for tail in range(10**missing):
        candidate = body + f"{tail:0{missing}d}"
        if is_valid(candidate):
            return candidate
    raise ValueError(body)


def random_digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def inn10(rng: random.Random) -> str:
    return _with_check_digits("23" + random_digits(rng, 7), 10, is_valid_inn)


def inn12(rng: random.Random) -> str:
    return _with_check_digits("23" + random_digits(rng, 8), 12, is_valid_inn)


def ogrn13(rng: random.Random) -> str:
    return _with_check_digits("1" + random_digits(rng, 11), 13, is_valid_ogrn)


def ogrnip15(rng: random.Random) -> str:
    return _with_check_digits("3" + random_digits(rng, 13), 15, is_valid_ogrn)


def _subscriber_user(email: str, full_name: str):  # type: ignore[no-untyped-def]

    from accounts.models import User

    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "email_confirmed_at": clock.now()}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed_demo_accounts(*, today: date, individuals: int = 400) -> int:
    """Create the demo city as it stands on `today`; return how many accounts were created
    (0 on a rerun)."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from accounts.models import AccountLink, PersonalAccount, Subscriber, User
    from accounts.services import account_number_for

    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    existing = set(PersonalAccount.objects.values_list("number", flat=True))
    created = 0
    serial = 0

    def add_account(subscriber_factory, **account_fields) -> PersonalAccount | None:  # type: ignore[no-untyped-def]
        nonlocal serial, created
        serial += 1
        number = account_number_for(serial)
        if number in existing:
            return PersonalAccount.objects.get(number=number)
        subscriber = subscriber_factory()
        created += 1
        # Organisations have been customers for years, as the people have.
        account_fields.setdefault("opened_on", date(2014 + serial % 6, 1 + serial % 12, 1))
        return PersonalAccount.objects.create(
            number=number, subscriber=subscriber, **account_fields
        )

    with transaction.atomic():
        for _ in range(individuals):
            name, address = person_name(rng), apartment_address(rng)
            residents = rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])
            sewage_only = rng.random() < 0.03
            add_account(
                lambda name=name: Subscriber.objects.create(
                    kind=Subscriber.Kind.INDIVIDUAL, name=name
                ),
                address=address,
                residents=residents,
                water_supply=not sewage_only,
                opened_on=today.replace(year=2015 + rng.randint(0, 8), day=1),
            )
        for org_name in MANAGING_ORGS:
            address = house_address(rng)
            inn, ogrn = inn10(rng), ogrn13(rng)
            add_account(
                lambda org_name=org_name, inn=inn, ogrn=ogrn, address=address: (
                    Subscriber.objects.create(
                        kind=Subscriber.Kind.MANAGING_ORG
                        if org_name.startswith("ООО")
                        else Subscriber.Kind.HOUSING_COOP,  # ТСЖ, ЖСК
                        name=org_name,
                        inn=inn,
                        kpp="231001001",
                        ogrn=ogrn,
                        legal_address=address,
                        contract_number=f"МКД-{rng.randint(100, 999)}",
                        contract_date=today.replace(year=2019, month=1, day=1),
                    )
                ),
                address=address,
                residents=0,
                tariff_category=PersonalAccount.TariffCategory.POPULATION,
            )
        for org_name, social in LEGAL_ENTITIES:
            address = house_address(rng)
            inn, ogrn = inn10(rng), ogrn13(rng)
            add_account(
                lambda org_name=org_name, inn=inn, ogrn=ogrn, address=address, social=social: (
                    Subscriber.objects.create(
                        kind=Subscriber.Kind.LEGAL,
                        name=org_name,
                        inn=inn,
                        kpp="231001001",
                        ogrn=ogrn,
                        legal_address=address,
                        contract_number=f"ЮЛ-{rng.randint(1000, 9999)}",
                        contract_date=today.replace(year=2020, month=3, day=1),
                        socially_important=social,
                    )
                ),
                address=address,
                residents=0,
                tariff_category=PersonalAccount.TariffCategory.OTHER,
            )
        for name in ENTREPRENEURS:
            address = house_address(rng)
            inn, ogrn = inn12(rng), ogrnip15(rng)
            add_account(
                lambda name=name, inn=inn, ogrn=ogrn, address=address: Subscriber.objects.create(
                    kind=Subscriber.Kind.LEGAL,
                    name=name,
                    inn=inn,
                    ogrn=ogrn,
                    legal_address=address,
                    contract_number=f"ИП-{rng.randint(100, 999)}",
                ),
                address=address,
                residents=0,
                sewage=rng.random() < 0.7,
                tariff_category=PersonalAccount.TariffCategory.OTHER,
            )

        # Logins: staff of each group, and subscribers with their accounts linked.
        for login in STAFF_LOGINS:
            user, was_created = User.objects.get_or_create(
                email=login.email,
                defaults={
                    "full_name": login.role.capitalize(),
                    "is_staff": True,
                    "is_superuser": login.superuser,
                    "email_confirmed_at": clock.now(),
                },
            )
            if was_created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if login.group:
                user.groups.add(Group.objects.get(name=login.group))
        by_name = {
            s.name: s for s in Subscriber.objects.filter(name__in=["ООО «Ромашка»", "ООО «УК Юг»"])
        }
        first_accounts = list(
            PersonalAccount.objects.filter(subscriber__kind=Subscriber.Kind.INDIVIDUAL).order_by(
                "number"
            )[:3]
        )
        links = {
            "ivanova@example.ru": first_accounts[:2],
            "petrov@example.ru": first_accounts[2:3],
            "buh@romashka.example.ru": list(by_name["ООО «Ромашка»"].accounts.all()),
            "uk@yug.example.ru": list(by_name["ООО «УК Юг»"].accounts.all()),
        }
        for login in SUBSCRIBER_LOGINS:
            user = _subscriber_user(login.email, login.role)
            for account in links[login.email]:
                AccountLink.objects.get_or_create(
                    user=user, account=account, defaults={"confirmed_at": clock.now()}
                )
    return created
