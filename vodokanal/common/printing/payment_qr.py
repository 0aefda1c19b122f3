"""The payment QR code of receipts and claims (ГОСТ Р 56042-2014, docs/formats.md §2).

A payload is the header ``ST00012`` (format ``ST``, version ``0001``, encoding ``2`` =
UTF-8) followed by ``Key=Value`` fields separated by ``|``. The five mandatory fields
come first, in the order the standard fixes, then the optional ones.

Policy for the ``|`` separator, which no value may contain: the payee's requisites and
identifiers (account numbers, INN, ``PersAcc``) are configuration or database data, so a
bad one is a bug and raises ValueError; free text typed by people (purpose, payer name
and address, ``extra`` values) is sanitised: ``|`` and line breaks become spaces.

Rendering uses segno with error correction level M; ``qr_png`` needs no Pillow.
"""

import io
import re
import struct
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno

from vodokanal.common.money import to_kopecks

HEADER = "ST00012"
SEPARATOR = "|"

NAME_MAX = 160
BANK_NAME_MAX = 45
PURPOSE_MAX = 210

_ACCOUNT_RE = re.compile(r"\d{20}")
_BIC_RE = re.compile(r"\d{9}")
_INN_RE = re.compile(r"\d{10}|\d{12}")
_KPP_RE = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_HEADER_RE = re.compile(r"ST0001[123]")
_SPACES_RE = re.compile(r"\s+")

#: Fields that ``build_payload`` fills from its own arguments, in payload order.
_BUILT_FIELDS = (
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
)

#: The other optional fields of ГОСТ Р 56042-2014 (tables 2 and 3), allowed in ``extra``.
EXTRA_FIELDS = frozenset(
    {
        "PayerINN",
        "DrawerStatus",
        "CBC",
        "OKTMO",
        "PaytReason",
        "TaxPeriod",
        "DocNo",
        "DocDate",
        "TaxPaytKind",
        "PersonalAccount",
        "DocIdx",
        "PensAcc",
        "Contract",
        "Flat",
        "Phone",
        "PayerIdType",
        "PayerIdNum",
        "ChildFio",
        "BirthDate",
        "PaymTerm",
        "Category",
        "ServiceName",
        "CounterId",
        "CounterVal",
        "QuittId",
        "QuittDate",
        "InstNum",
        "ClassNum",
        "SpecFio",
        "AddAmount",
        "RuleId",
        "ExecId",
        "RegType",
        "UIN",
        "TechCode",
    }
)


def _is_control(ch: str) -> bool:
    """Control, format and line/paragraph separator characters (not ordinary spaces)."""
    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _check_identifier(field: str, value: str) -> str:
    """Refuse a requisite or identifier that would break the payload."""
    if SEPARATOR in value or any(_is_control(ch) for ch in value):
        raise ValueError(f"{field} must not contain '|' or control characters: {value!r}")
    if value != value.strip():
        raise ValueError(f"{field} must not start or end with whitespace: {value!r}")
    return value


def _check_text(field: str, value: str, max_length: int) -> str:
    """Validate a required text requisite (payee or bank name) and its length limit."""
    _check_identifier(field, value)
    if not value:
        raise ValueError(f"{field} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{field} is {len(value)} characters long, the limit is {max_length}")
    return value


def _check_pattern(field: str, value: str, pattern: re.Pattern[str], expected: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{field} must be {expected}, got {value!r}")
    return value


def sanitize(text: str) -> str:
    """Make free text safe as a payload value.

    ``|`` (the field separator), line breaks, tabs and other control characters become
    spaces; runs of spaces collapse to one; the ends are stripped.
    """
    cleaned = "".join(" " if ch == SEPARATOR or _is_control(ch) else ch for ch in text)
    return _SPACES_RE.sub(" ", cleaned).strip()


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """The payee's requisites, as printed on receipts (the real ones come from settings).

    Validated on construction (ValueError with an English message), so a misconfigured
    account is caught at start-up rather than in a customer's banking app.
    ``payee_inn`` and ``kpp`` may be empty (an entrepreneur has no KPP); then the field
    is left out of the payload.
    """

    name: str
    personal_acc: str
    bank_name: str
    bic: str
    corresp_acc: str
    payee_inn: str = ""
    kpp: str = ""

    def __post_init__(self) -> None:
        _check_text("Name", self.name, NAME_MAX)
        _check_pattern("PersonalAcc", self.personal_acc, _ACCOUNT_RE, "20 digits")
        _check_text("BankName", self.bank_name, BANK_NAME_MAX)
        _check_pattern("BIC", self.bic, _BIC_RE, "9 digits")
        if self.corresp_acc != "0":
            _check_pattern("CorrespAcc", self.corresp_acc, _ACCOUNT_RE, "20 digits or '0'")
        if self.payee_inn:
            _check_pattern("PayeeINN", self.payee_inn, _INN_RE, "10 or 12 digits")
        if self.kpp:
            _check_pattern("KPP", self.kpp, _KPP_RE, "9 characters like 231001001")


def _sum_field(amount: Decimal) -> str:
    """``Sum`` is in kopecks, digits only: Decimal("1520.40") -> "152040"."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"sum_ must be Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"sum_ must be a finite number, not {amount}")
    kopecks = int(to_kopecks(amount).scaleb(2))
    if kopecks <= 0:
        raise ValueError(f"sum_ must be positive, got {amount}")
    return str(kopecks)


def build_payload(
    payee: PaymentDetails,
    *,
    sum_: Decimal | None,
    purpose: str,
    pers_acc: str,
    paym_period: date | None = None,
    payer_last_name: str = "",
    payer_first_name: str = "",
    payer_middle_name: str = "",
    payer_address: str = "",
    extra: Mapping[str, str] | None = None,
) -> str:
    """Build the ГОСТ Р 56042-2014 text of a payment QR code (docs/formats.md §2).

    Field order: ``Name, PersonalAcc, BankName, BIC, CorrespAcc`` (mandatory), then
    ``PayeeINN, KPP, Sum, Purpose, LastName, FirstName, MiddleName, PayerAddress,
    PersAcc, PaymPeriod``, then ``extra`` in its own order. Empty optional values are
    left out. ``sum_`` is rounded by ``to_kopecks`` and written in kopecks; ``None``
    leaves the amount to the payer. ``paym_period`` is written as ``MMYYYY``.

    Free text (purpose, payer name and address, ``extra`` values) is sanitised (see the
    module docstring); ``pers_acc`` and the requisites must not contain ``|``.
    ``extra`` may hold only other fields of the standard (``EXTRA_FIELDS``).
    Raises ValueError (English message) when a rule or length limit is broken.
    """
    fields: list[tuple[str, str]] = [
        ("Name", payee.name),
        ("PersonalAcc", payee.personal_acc),
        ("BankName", payee.bank_name),
        ("BIC", payee.bic),
        ("CorrespAcc", payee.corresp_acc),
        ("PayeeINN", payee.payee_inn),
        ("KPP", payee.kpp),
    ]
    if sum_ is not None:
        fields.append(("Sum", _sum_field(sum_)))
    clean_purpose = sanitize(purpose)
    if len(clean_purpose) > PURPOSE_MAX:
        raise ValueError(
            f"Purpose is {len(clean_purpose)} characters long, the limit is {PURPOSE_MAX}"
        )
    fields += [
        ("Purpose", clean_purpose),
        ("LastName", sanitize(payer_last_name)),
        ("FirstName", sanitize(payer_first_name)),
        ("MiddleName", sanitize(payer_middle_name)),
        ("PayerAddress", sanitize(payer_address)),
        ("PersAcc", _check_identifier("PersAcc", pers_acc)),
    ]
    if paym_period is not None:
        fields.append(("PaymPeriod", f"{paym_period.month:02d}{paym_period.year:04d}"))
    for key, value in (extra or {}).items():
        if key in _BUILT_FIELDS:
            raise ValueError(f"{key} is set by its own argument, not through extra")
        if key not in EXTRA_FIELDS:
            raise ValueError(f"{key!r} is not a field of GOST R 56042-2014")
        fields.append((key, sanitize(value)))
    parts = [HEADER] + [f"{key}={value}" for key, value in fields if value]
    return SEPARATOR.join(parts)


def parse_payload(text: str) -> dict[str, str]:
    """Split a ГОСТ Р 56042-2014 payload into its fields, in payload order.

    The header (``ST0001`` + encoding digit) is checked and not returned. Raises
    ValueError for a missing header, a field without ``=``, a malformed or repeated key,
    or a missing mandatory field.
    """
    header, _, body = text.partition(SEPARATOR)
    if not _HEADER_RE.fullmatch(header):
        raise ValueError(f"not a GOST R 56042-2014 payload: header {header!r}")
    fields: dict[str, str] = {}
    for part in body.split(SEPARATOR) if body else []:
        key, eq, value = part.partition("=")
        if not eq or not _KEY_RE.fullmatch(key):
            raise ValueError(f"malformed field {part!r}")
        if key in fields:
            raise ValueError(f"field {key} occurs twice")
        fields[key] = value
    missing = [key for key in _BUILT_FIELDS[:5] if key not in fields]
    if missing:
        raise ValueError(f"mandatory fields missing: {', '.join(missing)}")
    return fields


def _make_qr(payload: str) -> segno.QRCode:
    parse_payload(payload)  # refuse to draw anything a banking app would reject
    if not payload.startswith(HEADER + SEPARATOR):
        raise ValueError(f"only UTF-8 payloads ({HEADER}) are rendered")
    # Byte mode in UTF-8 without an ECI marker, as the ``2`` in the header promises;
    # boost_error=False keeps the level at M docs/formats.md §2.
    return segno.make(
        payload,
        error="m",
        mode="byte",
        encoding="utf-8",
        micro=False,
        boost_error=False,
    )


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """Render the payload as an inline ``<svg>`` element for HTML and WeasyPrint.

    No XML declaration and no trailing newline; the SVG namespace is kept so the same
    string also works inside a ``data:`` URI or a standalone file. The size is
    ``(modules + 8) * scale`` pixels (a four-module quiet zone on each side).
    """
    out = io.BytesIO()
    _make_qr(payload).save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False)
    return out.getvalue().decode("utf-8")


def qr_png(payload: str, scale: int = 4) -> bytes:
    """Render the payload as PNG bytes: black modules on white, a four-module quiet zone,
    one bit a pixel, as segno writes it, but a row at a time rather than pixel by pixel
    (a receipt's code in a fraction of a millisecond instead of 6)."""
    data = bytearray()
    side = 0
    for modules in _make_qr(payload).matrix_iter(scale=1, border=4):
        # Grey, 1 bit a pixel: 0 is black. A module is `scale` pixels, a row `scale` rows.
        bits = "".join("0" * scale if dark else "1" * scale for dark in modules)
        side = len(bits)
        bits += "1" * (-side % 8)
        data += (b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")) * scale
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        _png_chunk(kind, body)
        for kind, body in ((b"IHDR", header), (b"IDAT", zlib.compress(data, 9)), (b"IEND", b""))
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
