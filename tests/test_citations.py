"""Every legal citation printed on a page or document comes from one table (vodokanal/common/law.py),
and each debtor category is cited with the article and part of the law that apply to it."""

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps

from accounts.models import Subscriber
from vodokanal.common import law

BASE_DIR = Path(__file__).resolve().parent.parent
CITATION = re.compile(
    r"(?<![\w])(ст|ч|пп|п|абз|статей)\.? ?«?\d|ЖК РФ|ГК РФ|ГПК|АПК|НК РФ|416-ФЗ|152-ФЗ|54-ФЗ"
    r"|Правил\w* №|ПП \d"
)


def test_no_template_writes_a_citation_of_its_own():
    found = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", "", line)
            found += [f"{path.relative_to(BASE_DIR)}:{number}" for _ in CITATION.finditer(text)]
    assert found == []


def test_no_russian_text_in_code_writes_a_citation_of_its_own():
    """Strings shown to people (not docstrings or comments, and not the legal data rows that
    staff edit) carry no citation but the table's."""
    found = []
    for app in ("accounts", "meters", "billing", "debtors", "vodokanal"):
        for path in (BASE_DIR / app).rglob("*.py"):
            if "migrations" in path.parts or path.name in ("law.py", "legal_data.py"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            found += [
                f"{path.relative_to(BASE_DIR)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and re.search("[а-я]", node.value)
                and CITATION.search(node.value)
                and "(ст. 333." not in node.value  # the names of the state-fee scales
            ]
    assert found == []


@pytest.mark.parametrize(
    ("kind", "services", "basis"),
    [
        ("individual", ["water_supply", "sewage"], "ч. 14 ст. 155 Жилищного кодекса РФ"),
        ("housing_coop", ["water_supply", "sewage"], "ч. 6.3 ст. 13, ч. 6.3 ст. 14 Федерального"),
        ("managing_org", ["water_supply", "sewage"], "ч. 6.4 ст. 13, ч. 6.4 ст. 14 Федерального"),
        ("legal", ["water_supply", "sewage"], "ч. 6.2 ст. 13, ч. 6.2 ст. 14 Федерального"),
        ("legal", ["sewage"], "ч. 6.2 ст. 14 Федерального"),
        ("managing_org", ["water_supply"], "ч. 6.4 ст. 13 Федерального"),
    ],
)
def test_the_penalty_is_cited_by_category_and_service(kind, services, basis):
    assert law.penalty_basis(kind, services).startswith(basis)
    assert set(law.RULE) == set(Subscriber.Kind.values)


@pytest.mark.django_db
def test_managing_organisations_entered_before_the_split_are_listed_to_check(client):
    from tests.factories import LegalSubscriberFactory, UserFactory

    old = LegalSubscriberFactory(kind="managing_org", name="ТСЖ «Старое»")
    new = LegalSubscriberFactory(kind="managing_org", name="ООО «УК Новая»", inn="2310031475")
    module = importlib.import_module("accounts.migrations.0005_housing_coops_apart")
    Subscriber.objects.filter(pk=new.pk).update(kind="legal")  # not a managing org then
    module.mark_managing_orgs(apps, None)
    Subscriber.objects.filter(pk=new.pk).update(kind="managing_org")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    listed = client.get("/staff/accounts/subscriber/", {"kind_to_check__exact": "1"}).text
    assert "ТСЖ «Старое»" in listed
    assert "ООО «УК Новая»" not in listed

    form = client.get(f"/staff/accounts/subscriber/{old.pk}/change/").context["adminform"].form
    data = {**form.initial, "kind": "housing_coop", "contract_date": ""}
    data = {key: value for key, value in data.items() if value is not None}
    data.update(
        {
            "accounts-TOTAL_FORMS": "0",
            "accounts-INITIAL_FORMS": "0",
            "accounts-MIN_NUM_FORMS": "0",
            "accounts-MAX_NUM_FORMS": "1000",
        }
    )
    response = client.post(f"/staff/accounts/subscriber/{old.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    old.refresh_from_db()
    assert (old.kind, old.kind_to_check) == ("housing_coop", False)
