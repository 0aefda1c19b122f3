"""The payment agents of the utility and the public list of ways to pay and to pass readings
(issue 5). Reference data: staff edit both in the admin."""

from django.db import migrations

from accounts import staff_groups

# code, name; every agent starts with the Sberbank-kind layout of docs/formats.md §1.
AGENTS = [
    ("sberbank", "ПАО Сбербанк"),
    ("kubankredit", "КБ «Кубань Кредит»"),
    ("pochta", "АО «Почта России»"),
    ("krayinvestbank", "АО «Крайинвестбанк»"),
    ("pervomaisky", "АО «Первомайский»"),
    ("uralsib", "ПАО «Банк Уралсиб»"),
    ("yuginvestbank", "ПАО «Юг-Инвестбанк»"),
]

# name, pays, takes readings, agent, summary, instructions, commission, url, phone
CHANNELS = [
    (
        "Личный кабинет на сайте", True, True, None,
        "Оплата картой любого банка и СБП, передача показаний с 15 по 25 число.",
        "Войдите в личный кабинет, выберите лицевой счёт и нажмите «Оплатить» или "
        "«Показания счётчиков». Оплата зачисляется сразу после подтверждения банком.",
        "без комиссии", "", "",
    ),
    (
        "Автоматическая телефонная линия", False, True, None,
        "Показания счётчиков по телефону с 15 по 25 число каждого месяца — голосом или "
        "кнопками телефона.",
        "Позвоните и назовите номер лицевого счёта (10 цифр, есть на квитанции) или наберите "
        "его и нажмите «#». Робот назовёт каждый счётчик по виду воды и последним цифрам "
        "заводского номера: продиктуйте показание в кубометрах или наберите его (дробную "
        "часть — после «*»). Робот повторит услышанное: «да» или 1 — верно, «нет» или 2 — "
        "повторить. Оператор — скажите «оператор» или нажмите 0.",
        "", "", "+7 (861) 200-00-01",
    ),
    (
        "СберБанк Онлайн и автоплатёж", True, True, "sberbank",
        "В приложении: «Платежи» → «ЖКХ» → «Водоснабжение» → наш Водоканал, или по QR-коду.",
        "Отсканируйте QR-код с квитанции или найдите Водоканал по ИНН 2310000003, введите "
        "номер лицевого счёта: приложение покажет сумму к оплате и попросит показания. "
        "Автоплатёж оплачивает квитанцию каждый месяц сам.",
        "без комиссии", "https://online.sberbank.ru", "900",
    ),
    (
        "Кубань Кредит", True, True, "kubankredit",
        "Интернет-банк, банкоматы и кассы банка.",
        "Выберите «Водоснабжение» → Водоканал, введите номер лицевого счёта и показания.",
        "без комиссии", "https://www.kubankredit.ru", "",
    ),
    (
        "Почта России", True, True, "pochta",
        "Оплата квитанции в любом почтовом отделении.",
        "Предъявите квитанцию оператору; показания можно вписать в квитанцию.",
        "1 % (взимает Почта)", "https://www.pochta.ru", "",
    ),
    (
        "Крайинвестбанк", True, False, "krayinvestbank",
        "Кассы и интернет-банк.",
        "Укажите номер лицевого счёта; сумма к оплате подставится из реестра начислений.",
        "без комиссии", "", "",
    ),
    (
        "Банк «Первомайский»", True, False, "pervomaisky",
        "Кассы и интернет-банк.",
        "Укажите номер лицевого счёта и период оплаты.",
        "без комиссии", "", "",
    ),
    (
        "Банк Уралсиб", True, False, "uralsib",
        "Интернет-банк и банкоматы.",
        "Раздел «Платежи» → «ЖКХ» → Водоканал, номер лицевого счёта.",
        "без комиссии", "", "",
    ),
    (
        "Юг-Инвестбанк", True, False, "yuginvestbank",
        "Кассы банка.",
        "Назовите номер лицевого счёта или предъявите квитанцию.",
        "без комиссии", "", "",
    ),
]  # fmt: skip

GROUP_PERMISSIONS = {
    "accountant": [
        "view_paymentagent", "add_paymentagent", "change_paymentagent",
        "view_registryimport", "add_registryimport",
        "view_unidentifiedpayment", "change_unidentifiedpayment",
        "view_accrualregistry", "add_accrualregistry",
        "view_onlinepayment",
        "view_paymentchannel", "add_paymentchannel", "change_paymentchannel",
    ],
    "operator": ["view_paymentchannel", "view_onlinepayment", "view_unidentifiedpayment"],
    "lawyer": ["view_onlinepayment", "view_registryimport"],
}  # fmt: skip


def seed(apps, schema_editor):
    PaymentAgent = apps.get_model("billing", "PaymentAgent")
    PaymentChannel = apps.get_model("billing", "PaymentChannel")
    for code, name in AGENTS:
        PaymentAgent.objects.get_or_create(code=code, defaults={"name": name})
    for order, row in enumerate(CHANNELS, start=1):
        name, pays, readings, agent, summary, instructions, commission, url, phone = row
        PaymentChannel.objects.get_or_create(
            name=name,
            defaults={
                "pays": pays,
                "takes_readings": readings,
                "agent": PaymentAgent.objects.filter(code=agent).first(),
                "summary": summary,
                "instructions": instructions,
                "commission": commission,
                "url": url,
                "phone": phone,
                "order": order * 10,
            },
        )


def grant(apps, schema_editor):
    staff_groups.grant(apps, "billing", GROUP_PERMISSIONS)


def revoke(apps, schema_editor):
    pass  # billing's 0003 revokes billing permissions as a whole


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_payments")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
    ]
