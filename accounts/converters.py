"""URL converters of the cabinet: a personal account number is 10 digits, a receipt's year
and month are a year and a month; anything else is a 404 before any query is made."""

from django.urls import register_converter


class AccountNumber:
    regex = "[0-9]{10}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


class Year:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):04d}"


class Month:
    regex = "0?[1-9]|1[0-2]"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):02d}"


register_converter(AccountNumber, "account")
register_converter(Year, "year")
register_converter(Month, "month")
