"""Hypothesis strategies for what a webhook may be sent: any JSON value, JSON nested to any
depth, and bytes that are not JSON at all (shared by the payment and phone webhook tests)."""

import json

from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def encoded(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def deep(depth: int, opening: str = "[", closing: str = "]") -> bytes:
    return (opening * depth + "1" + closing * depth).encode()


NESTED = st.one_of(
    st.integers(1, 200_000).map(deep),
    st.integers(1, 200_000).map(lambda n: b"[" * n),  # never closed
    st.integers(1, 5_000).map(lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
)


def bodies(objects: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """Bodies of a webhook: objects shaped like its own (`objects`), any JSON, deep nesting,
    and raw bytes (not UTF-8, truncated, empty)."""
    return st.one_of(
        objects.map(encoded),
        VALUES.map(encoded),
        NESTED,
        st.binary(max_size=200),
        objects.map(encoded).flatmap(
            lambda body: st.integers(0, len(body)).map(lambda n: body[:n])  # cut short
        ),
    )
