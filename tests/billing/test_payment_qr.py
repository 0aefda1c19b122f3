"""The ГОСТ Р 56042-2014 payment QR payload and its rendering (docs/formats.md §2).

The round-trip tests decode the rendered PNG with zxing-cpp (test-only dependency), which
reads the Pillow image directly.
"""

import dataclasses
import io
import random
import re
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
import segno
import zxingcpp
from PIL import Image
from segno import encoder as segno_encoder

from vodokanal.common.printing import payment_qr, qr_mask
from vodokanal.common.printing.payment_qr import (
    PaymentDetails,
    build_payload,
    parse_payload,
    qr_png,
    qr_svg,
    sanitize,
)

# The example from docs/formats.md §2 (invented bank details), verbatim.
EXAMPLE = (
    "ST00012|Name=ООО «Краснодар Водоканал»|PersonalAcc=40702810000000000001"
    "|BankName=ПАО Сбербанк|BIC=040349602|CorrespAcc=30101810100000000602"
    "|PayeeINN=2310000000|KPP=231001001|Sum=152040"
    "|Purpose=Оплата за водоснабжение и водоотведение, л/с 2300012345, 10.2025"
    "|PersAcc=2300012345|PaymPeriod=102025"
)

PAYEE = PaymentDetails(
    name="ООО «Краснодар Водоканал»",
    personal_acc="40702810000000000001",
    bank_name="ПАО Сбербанк",
    bic="040349602",
    corresp_acc="30101810100000000602",
    payee_inn="2310000000",
    kpp="231001001",
)

PURPOSE = "Оплата за водоснабжение и водоотведение, л/с 2300012345, 10.2025"


def example_payload(**overrides):
    arguments = {
        "sum_": Decimal("1520.40"),
        "purpose": PURPOSE,
        "pers_acc": "2300012345",
        "paym_period": date(2025, 10, 1),
    } | overrides
    return build_payload(PAYEE, **arguments)


def decode_png(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [result.text for result in results]


def test_example_payload_from_formats_md_is_reproduced_exactly():
    assert example_payload() == EXAMPLE


def test_mandatory_fields_come_first_then_optional_in_standard_order():
    payload = example_payload(
        payer_last_name="Иванов",
        payer_first_name="Иван",
        payer_middle_name="Иванович",
        payer_address="Краснодар, ул. Северная, д. 12, кв. 5",
        extra={"ServiceName": "Водоснабжение", "Phone": "+78612000000"},
    )
    assert payload.startswith("ST00012|Name=")
    assert list(parse_payload(payload)) == [
        "Name",
        "PersonalAcc",
        "BankName",
        "BIC",
        "CorrespAcc",
        "PayeeINN",
        "KPP",
        "Sum",
        "Purpose",
        "LastName",
        "FirstName",
        "MiddleName",
        "PayerAddress",
        "PersAcc",
        "PaymPeriod",
        "ServiceName",
        "Phone",
    ]


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ("1520.40", "152040"),
        ("1520.4", "152040"),
        ("0.01", "1"),
        ("45210.15", "4521015"),
        ("100", "10000"),
        ("1.005", "101"),
    ],
)
def test_sum_is_written_in_kopecks_digits_only(amount, field):
    assert parse_payload(example_payload(sum_=Decimal(amount)))["Sum"] == field


def test_no_sum_leaves_the_amount_to_the_payer():
    assert "Sum" not in parse_payload(example_payload(sum_=None))


@pytest.mark.parametrize("amount", ["0", "0.004", "-1", "NaN"])
def test_zero_negative_or_non_finite_sum_is_refused(amount):
    with pytest.raises(ValueError, match="sum_ must be"):
        example_payload(sum_=Decimal(amount))


@pytest.mark.parametrize("amount", [1520, 1520.4, "1520.40"])
def test_non_decimal_sum_is_refused(amount):
    with pytest.raises(TypeError):
        example_payload(sum_=amount)


def test_payment_period_is_month_and_year():
    assert parse_payload(example_payload(paym_period=date(2026, 1, 31)))["PaymPeriod"] == "012026"
    assert "PaymPeriod" not in parse_payload(example_payload(paym_period=None))


def test_pipe_and_line_breaks_in_free_text_are_replaced_with_spaces():
    payload = example_payload(
        purpose="Оплата | вода\nи стоки",
        payer_address="Краснодар,|ул. Северная\r\n д. 12",
        payer_last_name="Иванов|",
    )
    fields = parse_payload(payload)
    assert fields["Purpose"] == "Оплата вода и стоки"
    assert fields["PayerAddress"] == "Краснодар, ул. Северная д. 12"
    assert fields["LastName"] == "Иванов"
    assert payload.count("|") == len(fields)


def test_sanitize_keeps_ordinary_text_untouched():
    assert sanitize("ул. Красная, д. 3, кв. 17") == "ул. Красная, д. 3, кв. 17"


def test_empty_optional_fields_are_left_out():
    payee = dataclasses.replace(PAYEE, payee_inn="", kpp="")
    fields = parse_payload(build_payload(payee, sum_=None, purpose=" | ", pers_acc=""))
    assert list(fields) == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]


def test_purpose_longer_than_210_characters_is_refused():
    assert parse_payload(example_payload(purpose="в" * 210))["Purpose"] == "в" * 210
    with pytest.raises(ValueError, match="Purpose is 211 characters long"):
        example_payload(purpose="в" * 211)


def test_pipe_in_personal_account_is_refused():
    with pytest.raises(ValueError, match="PersAcc must not contain"):
        example_payload(pers_acc="2300012345|Sum=1")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bic", "04034960", "BIC must be 9 digits"),
        ("bic", "0403496021", "BIC must be 9 digits"),
        ("bic", "04034960A", "BIC must be 9 digits"),
        ("personal_acc", "4070281000000000000", "PersonalAcc must be 20 digits"),
        ("personal_acc", "4070281000000000000X", "PersonalAcc must be 20 digits"),
        ("corresp_acc", "301018101000000006", "CorrespAcc must be 20 digits or '0'"),
        ("corresp_acc", "", "CorrespAcc must be 20 digits or '0'"),
        ("payee_inn", "23100000", "PayeeINN must be 10 or 12 digits"),
        ("kpp", "2310010", "KPP must be 9 characters"),
        ("name", "", "Name must not be empty"),
        ("name", "О" * 161, "Name is 161 characters long, the limit is 160"),
        ("name", "ООО «Водоканал»|Sum=1", "Name must not contain '|'"),
        ("bank_name", "Б" * 46, "BankName is 46 characters long, the limit is 45"),
        ("bank_name", "ПАО\nСбербанк", "BankName must not contain"),
    ],
)
def test_bad_requisites_are_refused(field, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(PAYEE, **{field: value})


def test_requisites_at_their_length_limits_are_accepted():
    payee = dataclasses.replace(PAYEE, name="О" * 160, bank_name="Б" * 45, corresp_acc="0")
    fields = parse_payload(build_payload(payee, sum_=None, purpose="", pers_acc="1"))
    assert (fields["Name"], fields["BankName"], fields["CorrespAcc"]) == ("О" * 160, "Б" * 45, "0")


def test_requisites_cannot_be_changed_after_validation():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAYEE.bic = "1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"Sum": "1"}, "Sum is set by its own argument"),
        ({"PersAcc": "1"}, "PersAcc is set by its own argument"),
        ({"Bogus": "1"}, "'Bogus' is not a field"),
    ],
)
def test_extra_accepts_only_other_fields_of_the_standard(extra, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        example_payload(extra=extra)


def test_parse_payload_reads_the_example():
    fields = parse_payload(EXAMPLE)
    assert fields["Name"] == "ООО «Краснодар Водоканал»"
    assert fields["Sum"] == "152040"
    assert fields["PaymPeriod"] == "102025"
    assert len(fields) == 11


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a GOST R 56042-2014 payload"),
        ("ST00014|Name=x", "not a GOST R 56042-2014 payload"),
        ("Name=x|PersonalAcc=1", "not a GOST R 56042-2014 payload"),
        ("ST00012|Name=x|PersonalAcc", "malformed field 'PersonalAcc'"),
        ("ST00012|Name=x|=1", "malformed field '=1'"),
        (EXAMPLE + "|Sum=1", "field Sum occurs twice"),
        ("ST00012|Name=x|PersonalAcc=1|BankName=b|BIC=1", "mandatory fields missing: CorrespAcc"),
    ],
)
def test_parse_payload_refuses_malformed_text(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_payload(text)


def test_png_decodes_back_to_the_exact_payload():
    payload = example_payload(
        payer_last_name="Кузнецова",
        payer_first_name="Ольга",
        payer_middle_name="Петровна",
        payer_address="Краснодар, ул. Чекистов, д. 21, кв. 88",
    )
    png = qr_png(payload, scale=4)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(png) == [payload]


@pytest.mark.parametrize("scale", [1, 3, 4])
def test_png_has_the_very_pixels_segno_writes(scale):
    """qr_png writes a row at a time; the image is the one segno's own writer makes."""
    code = payment_qr._make_qr(EXAMPLE)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale)
    ours = Image.open(io.BytesIO(qr_png(EXAMPLE, scale=scale))).convert("L")
    segnos = Image.open(out).convert("L")
    assert ours.size == segnos.size
    assert ours.tobytes() == segnos.tobytes()


def test_example_png_decodes_back_with_cyrillic_intact():
    assert decode_png(qr_png(EXAMPLE)) == [EXAMPLE]


def test_svg_is_inline_markup_scaled_from_the_same_symbol():
    svg = qr_svg(EXAMPLE, scale=3)
    assert svg.startswith("<svg ")
    assert svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    # The PNG of the same payload at scale 1 gives the symbol size including the quiet zone.
    modules = Image.open(io.BytesIO(qr_png(EXAMPLE, scale=1))).width
    assert f'width="{modules * 3}"' in svg
    assert f'height="{modules * 3}"' in svg


def test_rendering_refuses_text_that_is_not_a_payment_payload():
    with pytest.raises(ValueError, match="not a GOST"):
        qr_svg("https://example.com")
    with pytest.raises(ValueError, match="not a GOST"):
        qr_png("https://example.com")
    with pytest.raises(ValueError, match="only UTF-8 payloads"):
        qr_png(EXAMPLE.replace("ST00012", "ST00011", 1))


def _segno_code(payload: str, search) -> segno.QRCode:
    """A payment code made with the given mask search in place of segno's."""
    with mock.patch.object(segno_encoder, "find_and_apply_best_mask", search):
        return segno.make(
            payload, error="m", mode="byte", encoding="utf-8", micro=False, boost_error=False
        )


def test_fast_mask_search_is_the_one_in_use():
    assert segno_encoder.find_and_apply_best_mask is qr_mask.find_and_apply_best_mask


def test_fast_mask_search_chooses_segnos_mask_and_symbol():
    """vodokanal/common/printing/qr_mask.py scores the masks of ISO/IEC 18004 as segno does, only faster: on
    payloads of every size a receipt or a claim can have, the same mask and the very same
    modules, and every mask number wins somewhere."""
    rnd = random.Random(56042)
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщыэюяАБВГД 0123456789|=.,;:-ABCxyz«»№"
    payloads = [EXAMPLE] + [
        "ST00012|" + "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(10, 600)))
        for _ in range(240)
    ]
    masks = set()
    for payload in payloads:
        segnos = _segno_code(payload, qr_mask._segno_search)
        ours = _segno_code(payload, qr_mask.find_and_apply_best_mask)
        assert (ours.version, ours.mask) == (segnos.version, segnos.mask), payload
        assert ours.matrix == segnos.matrix, payload
        masks.add(ours.mask)
    assert masks == set(range(8))


@pytest.mark.parametrize("mask", range(8))
def test_a_proposed_mask_is_applied_as_segno_applies_it(mask):
    with mock.patch.object(segno_encoder, "find_and_apply_best_mask", qr_mask._segno_search):
        segnos = segno.make(EXAMPLE, error="m", mode="byte", encoding="utf-8", mask=mask)
    ours = segno.make(EXAMPLE, error="m", mode="byte", encoding="utf-8", mask=mask)
    assert ours.mask == mask
    assert ours.matrix == segnos.matrix
