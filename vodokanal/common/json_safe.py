"""JSON from outside (webhooks): parsed only when it is UTF-8 and nested no deeper than a
bound. Python's parser recurses once per level of nesting, so a body of a few kilobytes of
`[[[[…` ends in a RecursionError; the depth is counted on the raw bytes first, in one pass
without recursion. The bottom layer: imports no app."""

import json
import re
from typing import Any

MAX_DEPTH = 10

# A string literal (skipped whole: brackets inside it are text) or a bracket, or a lone quote
# (a string that never ends, where the parser stops too).
_NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}"]', re.DOTALL)


class RefusedJSONError(ValueError):
    """The body is not JSON the portal takes; the message says why (in English, for logs and
    machine clients)."""


def loads(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `body`, or RefusedJSONError: not UTF-8, nested deeper than `max_depth`
    arrays or objects, or not JSON at all."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RefusedJSONError("the body is not UTF-8") from error
    depth = 0
    for match in _NESTING.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise RefusedJSONError(f"the JSON is nested deeper than {max_depth} levels")
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b'"':
            break
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise RefusedJSONError("the body is not JSON") from error
