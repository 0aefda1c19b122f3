"""Amounts in words (docs/formats.md §5). Expected texts are written out by hand."""

from decimal import Decimal

import pytest

from vodokanal.common.amount_words import amount_in_words, amount_with_words, format_rub, plural_ru

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "ноль рублей 00 копеек"),
        ("1", "один рубль 00 копеек"),
        ("2", "два рубля 00 копеек"),
        ("5", "пять рублей 00 копеек"),
        ("11", "одиннадцать рублей 00 копеек"),
        ("12", "двенадцать рублей 00 копеек"),
        ("21", "двадцать один рубль 00 копеек"),
        ("22", "двадцать два рубля 00 копеек"),
        ("25", "двадцать пять рублей 00 копеек"),
        ("101", "сто один рубль 00 копеек"),
        ("111", "сто одиннадцать рублей 00 копеек"),
        ("1000", "одна тысяча рублей 00 копеек"),
        ("2001", "две тысячи один рубль 00 копеек"),
        ("1000000", "один миллион рублей 00 копеек"),
        ("1234.56", "одна тысяча двести тридцать четыре рубля 56 копеек"),
        ("0.01", "ноль рублей 01 копейка"),
        ("0.05", "ноль рублей 05 копеек"),
        ("21.21", "двадцать один рубль 21 копейка"),
        ("3.02", "три рубля 02 копейки"),
        ("14.11", "четырнадцать рублей 11 копеек"),
        ("45210.15", "сорок пять тысяч двести десять рублей 15 копеек"),
    ],
)
def test_amount_is_spelled_with_the_right_plural_forms(amount, words):
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1000", "одна тысяча рублей 00 копеек"),
        ("2000", "две тысячи рублей 00 копеек"),
        ("21000", "двадцать одна тысяча рублей 00 копеек"),
        ("22000", "двадцать две тысячи рублей 00 копеек"),
        ("1001.02", "одна тысяча один рубль 02 копейки"),
        ("2002", "две тысячи два рубля 00 копеек"),
    ],
)
def test_thousands_are_feminine_and_roubles_masculine(amount, words):
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1.005", "один рубль 01 копейка"),
        ("1.004", "один рубль 00 копеек"),
        ("1.999", "два рубля 00 копеек"),
        ("0.004", "ноль рублей 00 копеек"),
    ],
)
def test_amount_is_rounded_half_up_to_kopecks_before_spelling(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_amount_with_words_matches_the_document_form():
    assert amount_with_words(Decimal("1234.56")) == (
        f"1{NBSP}234,56{NBSP}₽ (одна тысяча двести тридцать четыре рубля 56 копеек)"
    )


@pytest.mark.parametrize(
    ("amount", "figures"),
    [
        ("0", f"0,00{NBSP}₽"),
        ("0.01", f"0,01{NBSP}₽"),
        ("999.9", f"999,90{NBSP}₽"),
        ("1000", f"1{NBSP}000,00{NBSP}₽"),
        ("1000000", f"1{NBSP}000{NBSP}000,00{NBSP}₽"),
        ("1.005", f"1,01{NBSP}₽"),
    ],
)
def test_figures_use_non_breaking_spaces_and_a_decimal_comma(amount, figures):
    assert format_rub(Decimal(amount)) == figures


def test_amount_with_words_for_a_million():
    assert amount_with_words(Decimal("1000000")) == (
        f"1{NBSP}000{NBSP}000,00{NBSP}₽ (один миллион рублей 00 копеек)"
    )


@pytest.mark.parametrize("amount", [1, 1.5, "1.50", None])
def test_non_decimal_amount_is_refused(amount):
    with pytest.raises(TypeError):
        amount_in_words(amount)
    with pytest.raises(TypeError):
        amount_with_words(amount)


@pytest.mark.parametrize("amount", ["-0.01", "-1", "-0.001", "NaN", "Infinity"])
def test_negative_or_non_finite_amount_is_refused(amount):
    with pytest.raises(ValueError, match="amount must"):
        amount_in_words(Decimal(amount))
    with pytest.raises(ValueError, match="amount must"):
        amount_with_words(Decimal(amount))


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "many"),
        (1, "one"),
        (2, "few"),
        (4, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (21, "one"),
        (22, "few"),
        (25, "many"),
        (101, "one"),
        (111, "many"),
        (112, "many"),
        (1001, "one"),
        (-1, "one"),
    ],
)
def test_plural_ru_picks_the_form_by_the_last_digits(n, form):
    assert plural_ru(n, "one", "few", "many") == form
