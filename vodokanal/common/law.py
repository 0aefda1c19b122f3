"""The legal citations printed on pages, in documents and in the ledger: one table, so that a
lawyer reviews and changes them in one place. Templates print them with `{% law "key" %}`
(`{% load law %}`); code calls the functions below. Imports no app.

Penalties (docs/penalties.md §2) depend on who owes and for which service: ч. 14 ст. 155 ЖК РФ for
individuals; for organisations 416-ФЗ, article 13 for water supply (the contract of hot or
cold water supply) and article 14 for sewage (the contract of sewage), part 6.3 for ТСЖ and
ЖСК, 6.4 for managing organisations, 6.2 for every other subscriber. The categories are the
values of billing.penalties.DebtorCategory.
"""

from collections.abc import Iterable

ZHK = "Жилищного кодекса РФ"
LAW_416 = "Федерального закона от 07.12.2011 № 416-ФЗ «О водоснабжении и водоотведении»"

WATER_SUPPLY, SEWAGE = "water_supply", "sewage"  # billing.models.Service values
_ARTICLE = {WATER_SUPPLY: 13, SEWAGE: 14}
_PART = {"housing_coop": "6.3", "managing_org": "6.4", "legal": "6.2"}

# Every other citation, by what it grounds, as a sentence of a page or document prints it.
LAW = {
    # Payment and its allocation.
    "due_date": f"ч. 1 ст. 155 {ZHK}",
    "allocation": "п. 3 ст. 319.1 Гражданского кодекса РФ",
    "obligations": "ст. 309, 310, 544 Гражданского кодекса РФ",
    "obligations_genitive": "статей 309, 310, 544 Гражданского кодекса РФ",
    "utility_payment": (
        f"ст. 153, 154, 155, 157 {ZHK} и ст. 309, 310, 539, 544 Гражданского кодекса РФ"
    ),
    # Restriction of service.
    "restriction_threshold": (
        "п. 117, 118 Правил предоставления коммунальных услуг, утв. постановлением "
        "Правительства РФ от 06.05.2011 № 354, далее — Правила № 354"
    ),
    "restriction_individual": "пп. «а» п. 117, п. 119 Правил № 354",
    "restriction_notice": "п. 119 Правил № 354",
    "restriction_order": "п. 119, 122 Правил № 354",
    "restriction_costs": "п. 121(1) Правил № 354",
    "restoration": "п. 120 Правил № 354",
    "restriction_legal": "ст. 21 Федерального закона № 416-ФЗ",
    "restriction_legal_full": "ст. 21 Федерального закона от 07.12.2011 № 416-ФЗ",
    "restriction_legal_parts": "п. 1 ч. 3, ч. 4 ст. 21 Федерального закона № 416-ФЗ",
    "socially_important": "ст. 21 Федерального закона № 416-ФЗ",
    # Claims and courts.
    "claim_before_court": "ч. 5 ст. 4 Арбитражного процессуального кодекса РФ",
    "claim_before_court_short": "ч. 5 ст. 4 АПК РФ",
    "court_order_short": "ст. 121—122 ГПК РФ",
    "court_order_procedure": "ст. 121—124 Гражданского процессуального кодекса РФ",
    "court_order_grounds": "абз. 3 и 10 ст. 122 ГПК РФ",
    "court_order_identifiers": "ч. 2 ст. 124 ГПК РФ",
    "fee_general": "пп. 1 п. 1 ст. 333.19 Налогового кодекса РФ",
    "fee_court_order": "пп. 2 п. 1 ст. 333.19 НК РФ",
    "fee_arbitration": "пп. 1 п. 1 ст. 333.21 Налогового кодекса РФ",
    "statement_of_claim": (
        "ст. 309, 310, 330, 544 ГК РФ, ст. 13, 14 Федерального закона № 416-ФЗ, "
        "ст. 4, 110, 125, 126 Арбитражного процессуального кодекса РФ"
    ),
    # Personal data.
    "personal_data": "152-ФЗ",
}

# What the fractions are, by debtor category: the cabinet's and the documents' explanation.
_INDIVIDUALS = (
    "первые 30 дней просрочки пени не начисляются; с 31-го по 90-й день — 1/300 ключевой "
    "ставки Банка России за каждый день, с 91-го дня — 1/130"
)
RULE = {
    "individual": _INDIVIDUALS,
    "housing_coop": _INDIVIDUALS,
    "managing_org": (
        "с 1-го по 60-й день просрочки — 1/300 ключевой ставки Банка России за каждый день, "
        "с 61-го по 90-й день — 1/170, с 91-го дня — 1/130"
    ),
    "legal": "с первого дня просрочки — 1/130 ключевой ставки Банка России за каждый день",
}


def penalty_basis(category: str, services: Iterable[str]) -> str:
    """The parts of the law that set the debtor's penalty, for the services it buys:
    "ч. 6.4 ст. 13, ч. 6.4 ст. 14 Федерального закона от 07.12.2011 № 416-ФЗ «…»"."""
    if category == "individual":
        return f"ч. 14 ст. 155 {ZHK}"
    return f"{_parts(category, services)} {LAW_416}"


def penalty_basis_short(category: str, services: Iterable[str]) -> str:
    """The same, short, for the ledger's reasons: "416-ФЗ ч. 6.4 ст. 13, ч. 6.4 ст. 14"."""
    if category == "individual":
        return "ЖК РФ ч. 14 ст. 155"
    return f"416-ФЗ {_parts(category, services)}"


def _parts(category: str, services: Iterable[str]) -> str:
    articles = sorted({_ARTICLE[service] for service in services} or set(_ARTICLE.values()))
    return ", ".join(f"ч. {_PART[category]} ст. {article}" for article in articles)


def services_of(account) -> list[str]:  # type: ignore[no-untyped-def]
    """The services an account is billed for (accounts.PersonalAccount's flags)."""
    return [
        service
        for service, billed in ((WATER_SUPPLY, account.water_supply), (SEWAGE, account.sewage))
        if billed
    ]
