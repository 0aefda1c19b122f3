"""The choice of a QR code's data mask, as segno makes it, in a fraction of its time.

ISO/IEC 18004 asks the encoder to try the eight data masks and keep the one with the lowest
penalty (runs of one colour, 2 x 2 blocks, finder-like 1:1:3:1:1 patterns, the share of dark
modules), so that a printed code scans well. segno does it module by module in Python: 27 of
the 35 ms a receipt's code took (docs/architecture.md §11 (results: BENCHMARKS.md)). This module scores the same rules on whole rows
(rows as integers for the masks and the blocks, byte strings for the runs and the patterns)
and picks the same mask with the same matrix; tests/billing/test_payment_qr.py compares it
with segno's own search on hundreds of payloads.

`install()`, called once at start-up (vodokanal/apps.py), puts it in place of segno's search (segno's encoder looks the function up in its
module on every call); the choice and the symbol are unchanged, only faster. Micro QR codes,
which the receipts never use, keep segno's own function.
"""

import re
from functools import cache
from itertools import pairwise

from segno import encoder

_RUNS = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER = b"\x01\x00\x01\x01\x01\x00\x01"
_SEPARATOR = b"\x02"
_segno_search = encoder.find_and_apply_best_mask


@cache
def _mask_rows(size: int) -> tuple[tuple[int, ...], ...]:
    """For each of the 8 masks, each row's mask as an integer with one byte per module
    (0 or 1), zero outside the encoding region; rows read left to right, big-endian."""
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1
    patterns = encoder.get_data_mask_functions(False)
    return tuple(
        tuple(
            int.from_bytes(
                bytes(pattern(i, j) if function[i][j] > 0x1 else 0 for j in range(size)),
                "big",
            )
            for i in range(size)
        )
        for pattern in patterns
    )


def _finder_score(lines: bytes, size: int) -> int:
    """N3 over the rows (or columns) joined by a separator, counted exactly as segno counts
    it line by line (its rule for overlapping matches included)."""
    score = 0
    stride = size + len(_SEPARATOR)
    idx = lines.find(_FINDER)
    while idx != -1:
        start = idx - idx % stride  # the line's first module
        at, offset = idx - start, idx + 7
        if (
            at in (0, size - 7)
            or not any(lines[max(idx - 4, start) : idx])
            or not any(lines[offset : min(offset + 4, start + size)])
        ):
            score += 40
        else:
            offset = idx + 4
        idx = lines.find(_FINDER, offset)
    return score


def penalty(rows: list[bytes], size: int) -> int:
    """The penalty score (N1 + N2 + N3 + N4) of a square matrix given as rows of 0/1 bytes."""
    score = 0
    for lines in (rows, [bytes(column) for column in zip(*rows, strict=True)]):
        joined = _SEPARATOR.join(lines)  # no run or pattern crosses a separator
        runs = _RUNS.findall(joined)
        score += sum(map(len, runs)) - 2 * len(runs)  # N1: 3 + (length - 5) a run
        score += _finder_score(joined, size)
    bits = [int(row.translate(_TO_BITS), 2) for row in rows]
    inner = (1 << (size - 1)) - 1  # pairs (j - 1, j) for j = 1 .. size - 1
    for upper, lower in pairwise(bits):
        same = ~(upper ^ lower) & ~(upper ^ (upper >> 1)) & ~(lower ^ (lower >> 1))
        score += 3 * (same & inner).bit_count()  # N2
    dark = sum(row.count(1) for row in rows)
    score += 10 * int(abs(dark / size**2 * 100 - 50) / 5)  # N4
    return score


_TO_BITS = bytes.maketrans(b"\x00\x01", b"01")


def find_and_apply_best_mask(matrix, width, height, proposed_mask=None):
    """Drop-in for segno.encoder.find_and_apply_best_mask (same arguments and result)."""
    if width != height or width < 21:  # Micro QR: segno's own rules
        return _segno_search(matrix, width, height, proposed_mask)
    size = width
    data = [int.from_bytes(bytes(row), "big") for row in matrix]
    masks = _mask_rows(size)
    candidates = range(8) if proposed_mask is None else (proposed_mask,)
    best_score, best_mask, best_rows = None, 0, None
    for number in candidates:
        rows = [
            (value ^ mask).to_bytes(size, "big")
            for value, mask in zip(data, masks[number], strict=True)
        ]
        score = 0 if proposed_mask is not None else penalty(rows, size)
        if best_score is None or score < best_score:
            best_score, best_mask, best_rows = score, number, rows
    masked = tuple(bytearray(row) for row in best_rows)
    if proposed_mask is not None:
        for row, new in zip(matrix, masked, strict=True):
            row[:] = new
        return proposed_mask, matrix
    return best_mask, masked


def install() -> None:
    encoder.find_and_apply_best_mask = find_and_apply_best_mask
