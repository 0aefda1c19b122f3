"""The ways to pay and to pass readings: data edited by staff, shown to the public and in the
cabinet with the payment details."""

import pytest
from django.urls import reverse

from billing.models import PaymentChannel
from billing.receipts import payee
from tests.factories import link

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payment_agents")]

NAMES = [
    "Личный кабинет на сайте",
    "Автоматическая телефонная линия",
    "СберБанк Онлайн и автоплатёж",
    "Кубань Кредит",
    "Почта России",
    "Крайинвестбанк",
    "Банк «Первомайский»",
    "Банк Уралсиб",
    "Юг-Инвестбанк",
]


def test_public_page_lists_every_channel_in_order_with_the_details(client):
    page = client.get(reverse("billing:channels")).content.decode()

    positions = [page.index(name) for name in NAMES]
    assert positions == sorted(positions)
    details = payee()
    for requisite in (details.name, details.personal_acc, details.bic, details.payee_inn):
        assert requisite in page


def test_staff_edits_show_at_once_and_hidden_channels_disappear(client):
    PaymentChannel.objects.filter(name="Почта России").update(is_active=False)
    PaymentChannel.objects.filter(name="Юг-Инвестбанк").update(
        order=1, summary="Новая касса на ул. Мира"
    )

    page = client.get(reverse("billing:channels")).content.decode()

    assert "Почта России" not in page
    assert "Новая касса на ул. Мира" in page
    assert page.index("Юг-Инвестбанк") < page.index("Личный кабинет на сайте")


def test_cabinet_finance_page_lists_the_channels(client, user, account):
    link(user, account)
    client.force_login(user)

    page = client.get(reverse("billing:finance", args=[account.number])).content.decode()

    assert all(name in page for name in NAMES)


def test_accountant_edits_channels_in_the_admin_and_operator_only_views(client, staff_groups):
    from tests.factories import staff_user

    channel = PaymentChannel.objects.get(name="Банк Уралсиб")
    url = reverse("admin:billing_paymentchannel_change", args=[channel.pk])
    client.force_login(staff_user("operator"))
    assert client.post(url, {"name": "x"}).status_code == 403

    client.force_login(staff_user("accountant"))
    form = client.get(url).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        name="Банк Уралсиб", summary="Только интернет-банк", agent=channel.agent_id, order=5
    )
    data["pays"] = "on"
    response = client.post(url, data)

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.summary, channel.order) == ("Только интернет-банк", 5)
