"""vodokanal.common.json_safe: JSON from outside is parsed or refused with its own error, whatever
the bytes, the nesting or the length."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.json_strategies import NESTED, VALUES, deep, encoded
from vodokanal.common.json_safe import MAX_DEPTH, RefusedJSONError, loads


@given(value=VALUES)
def test_json_reads_as_the_standard_parser_does_or_is_refused_for_its_depth(value):
    body = encoded(value)
    try:
        assert loads(body) == json.loads(body)
    except RefusedJSONError as error:
        assert "nested deeper" in str(error)  # noqa: PT017 - the only refusal of valid JSON


@given(body=st.one_of(st.binary(max_size=300), NESTED))
def test_any_bytes_are_read_or_refused_with_the_modules_own_error(body):
    with contextlib.suppress(RefusedJSONError):  # any other exception fails the test
        loads(body)


def test_the_depth_is_bounded_and_brackets_in_strings_do_not_count():
    assert loads(deep(MAX_DEPTH)) == json.loads(deep(MAX_DEPTH))
    with pytest.raises(RefusedJSONError, match="nested deeper than 10"):
        loads(deep(MAX_DEPTH + 1))
    with pytest.raises(RefusedJSONError, match="nested deeper"):
        loads(deep(100_000))
    assert loads(b'{"text": "[[[[[[[[[[[[[[[[[[[[[[["}') == {"text": "[" * 23}
    with pytest.raises(RefusedJSONError, match="not UTF-8"):
        loads(b'{"a": "\xff"}')
