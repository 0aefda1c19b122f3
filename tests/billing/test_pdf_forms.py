"""Documents in batches (vodokanal/common/printing/pdf_forms.py): a form laid out once, each document's fields
drawn over it. The batch file must read as the single document does, field by field at the
same place, and whatever a form can't hold must be laid out whole."""

import io
from datetime import date

import pypdf
import pytest
import zxingcpp
from django.template.loader import render_to_string
from PIL import Image

from billing import receipts
from billing.models import Period
from billing.templatetags.pdf_fields import field
from tests.billing.conftest import bill, read
from tests.factories import MeterFactory, PersonalAccountFactory, SubscriberFactory
from tests.pdfs import assert_same_places, lines, placed
from vodokanal.common.printing import pdf_forms
from vodokanal.common.printing.payment_qr import parse_payload
from vodokanal.common.printing.pdf import html_pdf, render_pdf

MAR = date(2025, 3, 1)
PAGE = (
    '<html><head><meta charset="utf-8"><title>{title}</title><style>'
    '@page {{ size: A4; margin: 10mm }} body {{ font-family: "DejaVu Sans"; font-size: 9pt }}'
    "table {{ width: 100%; border-collapse: collapse; table-layout: {layout} }}"
    "td {{ border: 0.5pt solid #000; padding: 1mm }} .num {{ text-align: right }}"
    "{kerning}"
    "</style></head><body>{body}</body></html>"
)


KERNING_OFF = ".f {{ font-kerning: none; font-variant-ligatures: none }}"


def page(
    body: str, *, layout: str = "fixed", title: str = "Документ", kerning: str = KERNING_OFF
) -> str:
    return PAGE.format(body=body, layout=layout, title=title, kerning=kerning)


def where(data: bytes, text: str) -> tuple[float, float]:
    """Where the piece of text that is exactly `text` starts."""
    spots = [(x, y) for x, y, piece in placed(data, 0) if piece == text]
    assert spots, f"{text!r} not in the PDF"
    return spots[0]


def test_fields_are_drawn_where_weasyprint_lays_them_out():
    documents = [
        page(
            "<p>Абонент:</p><p>" + field(name) + "</p>"
            '<table><colgroup><col style="width: 70%"><col style="width: 30%"></colgroup>'
            '<tr><td>К оплате</td><td></td></tr><tr><td></td><td class="num">'
            + field(amount)
            + "</td></tr></table>",
            title=f"Счёт {name}",
        )
        for name, amount in (("Иванов И. И.", "1 234,56 ₽"), ("Пётр Сидоров", "7,00 ₽"))
    ]
    whole_laid_out = []

    def whole(html: str) -> bytes:
        whole_laid_out.append(html)
        return html_pdf(html)

    batch, _ = pdf_forms.render_many(documents, whole)

    assert whole_laid_out == []  # one form for both, laid out once
    for html, data, (name, amount) in zip(
        documents, batch, (("Иванов И. И.", "1 234,56 ₽"), ("Пётр Сидоров", "7,00 ₽")), strict=True
    ):
        single = html_pdf(html)
        assert_same_places(data, single)
        for text in (name, amount):
            x, y = where(data, text)
            x0, y0 = where(single, text)
            assert abs(x - x0) < 0.5, text
            assert abs(y - y0) < 0.5, text
        assert pypdf.PdfReader(io.BytesIO(data)).metadata.title == f"Счёт {name}"


@pytest.mark.parametrize(
    ("body", "layout"),
    [
        # Text after a left-aligned field would move with the field's width.
        ("<p>Сумма " + field("10,00") + " к оплате</p>", "fixed"),
        # Column widths of an automatic table follow their content.
        ("<table><tr><td>" + field("10,00") + "</td></tr></table>", "auto"),
        # A centred field must be alone on its line.
        ('<p style="text-align: center">Итого: ' + field("10,00") + "</p>", "fixed"),
        # Justified text: which lines are justified depends on where the paragraph breaks.
        ('<p style="text-align: justify">Итого: ' + field("10,00") + "</p>", "fixed"),
        # A field starting a line that wrapped: a short value could go up to the line before.
        (
            '<p style="width: 20mm">ВодоснабжениеИВодоотведение ' + field("10,00") + "</p>",
            "fixed",
        ),
        # Text after a field on the next line (no forced break) could come up to its line.
        ('<p style="width: 30mm">' + field("10,00") + " и далее текст абзаца</p>", "fixed"),
        # "Fixed" with no width is laid out automatically.
        (
            '<table style="width: auto"><tr><td>' + field("10,00") + "</td><td>Итого</td></tr>"
            "</table>",
            "fixed",
        ),
        # A page-margin box as wide as its content.
        (
            "<style>@page { @bottom-left { content: element(ref) } } .ref { position: "
            'running(ref) }</style><div class="ref">' + field("№ 1") + "</div><p>Текст</p>",
            "fixed",
        ),
        # A right-aligned field must be alone on its line.
        ('<p style="text-align: right">Итого: ' + field("10,00") + "</p>", "fixed"),
    ],
)
def test_a_form_that_breaks_a_rule_is_refused(body, layout):
    with pytest.raises(pdf_forms.NotAFormError):
        pdf_forms.lay_out_form(pdf_forms.take_apart(page(body, layout=layout)).form)


def test_a_form_with_kerning_is_refused():
    """reportlab draws glyph by glyph: a field WeasyPrint kerns can't be drawn the same."""
    body = "<p>Абонент:<br>" + field("AVTO Wally") + "</p>"
    with pytest.raises(pdf_forms.NotAFormError):
        pdf_forms.lay_out_form(pdf_forms.take_apart(page(body, kerning="")).form)
    assert pdf_forms.lay_out_form(pdf_forms.take_apart(page(body)).form).texts


def test_what_a_form_cant_hold_is_laid_out_whole():
    narrow = (
        '<table><colgroup><col style="width: 30%"><col style="width: 70%"></colgroup>'
        "<tr><td>{}</td><td>Адрес</td></tr></table>"
    )
    short, long = "ул. Мира, д. 1", "ул. Восточно-Кругликовская, д. 190, корпус 3, кв. 78"
    lacking = "ул. 李, д. 1"  # DejaVu Sans has no CJK: WeasyPrint takes it from another font
    hyphen = "ул. Ми\u00adра, д. 2"  # a soft hyphen: WeasyPrint shows nothing there
    documents = [
        page(narrow.format(field(value)))
        for value in (short, "ул. Луговая, д. 5", long, lacking, hyphen)
    ]
    mixed = [documents[0], page("<p>Другой документ " + field("1") + " без пары</p>")]
    whole_laid_out = []

    def whole(html: str) -> bytes:
        whole_laid_out.append(html)
        return html_pdf(html)

    files, _ = pdf_forms.render_many(documents, whole)

    # The long address would wrap in its cell, the other needs a font the form has not:
    # those documents are laid out whole.
    assert whole_laid_out == [documents[2], documents[3], documents[4]]
    assert long.split()[1] in pypdf.PdfReader(io.BytesIO(files[2])).pages[0].extract_text()
    assert where(files[0], short)
    # A document whose form no other shares is laid out whole too.
    whole_laid_out.clear()
    pdf_forms.render_many(mixed, whole)
    assert whole_laid_out == mixed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("legal_data", "rates")
def test_receipts_of_a_batch_read_as_the_single_receipt():
    accounts = []
    for number, (name, address) in enumerate(
        (
            ("Петрова Анна Сергеевна", "г. Краснодар, ул. Красная, д. 3, кв. 17"),
            ("Ли Ю", "г. Краснодар, ул. Северная, д. 310, кв. 4"),
            ("Кузнецов Пётр Ильич", "г. Краснодар, ул. Мира, д. 1"),
        )
    ):
        account = PersonalAccountFactory(
            subscriber=SubscriberFactory(name=name),
            residents=1,
            opened_on=date(2020, 1, 1),
            address=address,
        )
        meter = MeterFactory(
            account=account, serial=f"СВ-{number:06d}", installed_on=date(2024, 1, 1)
        )
        read(meter, f"{100 + number * 7}.000", date(2025, 2, 20))
        read(meter, f"{103 + number * 11}.500", date(2025, 3, 18))
        accounts.append(account)
    bill(MAR)
    period = Period.objects.get(month=MAR)
    whole_laid_out = []

    def whole(html: str) -> bytes:
        whole_laid_out.append(html)
        return html_pdf(html)

    datas = [receipts.receipt_data(account, period) for account in accounts]
    htmls = [render_to_string(receipts.TEMPLATE, {"r": data}) for data in datas]
    batch, printed = pdf_forms.render_many(htmls, whole)

    assert whole_laid_out == []
    files, _ = receipts.render_receipts([(account, period) for account in accounts])
    for account, data in zip(accounts, files, strict=True):
        assert where(data, account.number)
    for data, html, drawn in zip(datas, htmls, batch, strict=True):
        single = render_pdf(receipts.TEMPLATE, {"r": data})
        values = pdf_forms.take_apart(html).texts
        assert data.account.address in values
        assert data.account.link_code in values
        assert_same_places(drawn, single)
        # The bank's QR code is drawn too, and reads back to this receipt's payload.
        image = Image.open(io.BytesIO(pypdf.PdfReader(io.BytesIO(drawn)).pages[0].images[0].data))
        decoded = zxingcpp.read_barcodes(image)[0].text
        assert decoded == data.payload
        assert parse_payload(decoded)["PersAcc"] == data.account.number
    assert pypdf.PdfReader(io.BytesIO(batch[0])).trailer["/Root"]["/Lang"] == "ru"
    # The print file holds the same pages in order, each form written once.
    assert len(pypdf.PdfReader(io.BytesIO(printed)).pages) == len(accounts)
    for number, drawn in enumerate(batch):
        assert lines(printed, number) == lines(drawn, 0)
    assert len(printed) < sum(len(drawn) for drawn in batch)


def test_without_fontconfig_the_batch_is_laid_out_whole(monkeypatch):
    """No `fc-match` (a slim image without fontconfig): no form can draw its fields, so
    every document is laid out whole, and nothing fails."""

    def no_tool(*args, **kwargs):
        raise FileNotFoundError("fc-match")

    documents = [page("<p>Абонент: " + field(name) + "</p>") for name in ("Ли Ю", "Пётр")]
    whole_laid_out = []

    def whole(html: str) -> bytes:
        whole_laid_out.append(html)
        return html_pdf(html)

    pdf_forms._font.cache_clear()
    monkeypatch.setattr(pdf_forms.subprocess, "run", no_tool)
    try:
        files, printed = pdf_forms.render_many(documents, whole)
    finally:
        pdf_forms._font.cache_clear()

    assert whole_laid_out == documents
    assert where(files[1], "Абонент: Пётр")
    assert len(pypdf.PdfReader(io.BytesIO(printed)).pages) == 2
