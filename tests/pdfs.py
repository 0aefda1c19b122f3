"""Comparing PDF files by where their text is: a batch's file must read as the single
document does (vodokanal/common/printing/pdf_forms.py)."""

import io

import pypdf


def placed(data: bytes, page: int) -> list[tuple[float, float, str]]:
    """Each piece of text on a page: where it starts (x, baseline) and its text."""
    found = []
    reader = pypdf.PdfReader(io.BytesIO(data))

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((x, y, text.strip()))

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def lines(data: bytes, page: int) -> dict[float, tuple[float, str]]:
    """The page's lines by baseline: where each starts, and its text left to right with
    the spaces left out (the two paths split a line into pieces differently)."""
    by_line: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in placed(data, page):
        by_line.setdefault(round(y, 1), []).append((x, text))
    return {
        y: (min(pieces)[0], "".join("".join(text.split()) for _, text in sorted(pieces)))
        for y, pieces in by_line.items()
    }


def assert_same_places(drawn: bytes, single: bytes) -> None:
    """The same pages, and on each every line at the same height, starting at the same
    place, with the same text."""
    count = len(pypdf.PdfReader(io.BytesIO(single)).pages)
    assert len(pypdf.PdfReader(io.BytesIO(drawn)).pages) == count
    for page in range(count):
        drawn_lines, single_lines = lines(drawn, page), lines(single, page)
        assert drawn_lines.keys() == single_lines.keys()
        for y, (x, text) in drawn_lines.items():
            assert text == single_lines[y][1]
            assert abs(x - single_lines[y][0]) < 0.5, text
