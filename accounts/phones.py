"""Russian phone numbers in one canonical form, +7XXXXXXXXXX."""

import re

_NON_DIGITS = re.compile(r"\D")


def normalise_phone(raw: str) -> str:
    """'8 (861) 200-00-00' -> '+78612000000'. Returns '' when it is not a Russian number."""
    digits = _NON_DIGITS.sub("", raw or "")
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return ""


def looks_like_phone(raw: str) -> bool:
    return "@" not in raw and bool(normalise_phone(raw))
