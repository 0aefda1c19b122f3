"""Many documents of one template, laid out once per form: variable-data printing.

A template marks its variable text with the `field` filter (templatetags/pdf_fields.py),
which wraps it in `<span class="f">`, and a variable image with `class="f"`. Documents of
a batch whose HTML is the same once their fields are set aside share a form: the same rows,
the same branches. WeasyPrint lays each form out once, with its fields hidden, and every
document of the form is that page with its own fields drawn where the layout put them
(reportlab), the form under them as a Form XObject (pypdf).

Nothing is assumed: the layout must prove that a field can't move anything else. A field
is one line, in a fixed-layout table or a plain block, and either the last text on its line
(left-aligned) or the only one (right-aligned). A form that breaks a rule, or a value wider
than its room, sends the document to a whole layout of its own, as one document is rendered
(billing/pdf.py): every file reads as WeasyPrint would lay it out.
"""

import base64
import html as html_lib
import io
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

PX = 0.75  # CSS px to PDF pt
ROOM = 1.0  # pt kept free at a field's end: HarfBuzz and reportlab measure a hair apart

FIELD = re.compile(r'<span class="f">(.*?)</span>', re.S)
IMAGE = re.compile(r'<img class="f" src="([^"]*)"')
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
SPACES = re.compile(r"[ \t\n\r\f]+")
HIDDEN = "<style>.f { visibility: hidden }</style></head>"
# A 1x1 transparent PNG: a hidden image's place is sized by its CSS, not by its pixels.
BLANK_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf"
    "DwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class NotAFormError(Exception):
    """The layout of a form breaks a rule: its documents are laid out whole."""


@dataclass(frozen=True)
class Document:
    """One document's HTML taken apart: the form (fields blanked) and its values."""

    form: str  # the HTML with each field numbered and its text replaced by a placeholder
    texts: tuple[str, ...]
    images: tuple[str, ...]  # data URIs
    title: str


def take_apart(html: str) -> Document | None:
    """The document's form and fields, or None when it has none to share."""
    texts: list[str] = []
    images: list[str] = []

    def text(match: re.Match) -> str:
        value = html_lib.unescape(match.group(1))
        if "<" in match.group(1):
            raise NotAFormError("markup inside a field")
        texts.append(value)
        # An empty field stays empty in the form: it may leave a line without text.
        return f'<span class="f" data-i="{len(texts) - 1}">{"0" if value.strip() else ""}</span>'

    def image(match: re.Match) -> str:
        images.append(html_lib.unescape(match.group(1)))
        return f'<img class="f" data-j="{len(images) - 1}" src="{BLANK_IMAGE}"'

    try:
        form = IMAGE.sub(image, FIELD.sub(text, html))
    except NotAFormError:
        return None
    if not texts and not images:
        return None
    title = TITLE.search(form)
    return Document(
        form=TITLE.sub("<title></title>", form, count=1),
        texts=tuple(texts),
        images=tuple(images),
        title=html_lib.unescape(title.group(1)).strip() if title else "",
    )


@dataclass(frozen=True)
class TextSlot:
    page: int
    start: float  # pt from the page's left: the line's left end
    left: float  # pt: where the field's text starts in the form
    right: float  # pt: the line's right end
    baseline: float  # pt from the page's top
    align: str  # "left", "right" or "center"
    font: str  # a registered reportlab font
    size: float  # pt
    color: tuple[float, float, float]


@dataclass(frozen=True)
class ImageSlot:
    page: int
    left: float
    top: float
    width: float
    height: float


@dataclass
class Form:
    pdf: PdfReader  # the form's layout with its fields hidden
    sizes: list[tuple[float, float]]  # pt
    # A field is drawn on each page it is laid out on (a running footer: every page).
    texts: dict[int, list[TextSlot]] = field(default_factory=dict)
    images: dict[int, list[ImageSlot]] = field(default_factory=dict)


def lay_out_form(form_html: str) -> Form:
    """WeasyPrint's layout of a form, its fields hidden, and where each field goes."""
    if "</head>" not in form_html:
        raise NotAFormError("no <head> to hide the fields in")
    document = HTML(
        string=form_html.replace("</head>", HIDDEN, 1), base_url=str(settings.BASE_DIR)
    ).render()
    form = Form(
        pdf=PdfReader(io.BytesIO(document.write_pdf())),
        sizes=[(page.width * PX, page.height * PX) for page in document.pages],
    )
    for number, page in enumerate(document.pages):
        _find_slots(page._page_box, form, number, block=None, safe=True)
    if any(not isinstance(page.raw_get("/Contents"), IndirectObject) for page in form.pdf.pages):
        raise NotAFormError("a page of the form is drawn by more than one stream")
    return form


def _find_slots(box: boxes.Box, form: Form, page: int, *, block, safe: bool) -> None:
    style = box.style
    if isinstance(box, boxes.TableBox) and style["table_layout"] != "fixed":
        safe = False  # column widths would follow the content
    if (
        style["float"] != "none"
        or style["position"] in ("absolute", "fixed")
        or isinstance(box, (boxes.InlineBlockBox, boxes.FlexContainerBox, boxes.GridContainerBox))
    ):
        safe = False  # shrink-to-fit widths would follow the content
    if isinstance(box, boxes.MarginBox) and style["width"] == "auto":
        safe = False  # a page-margin box is as wide as its content unless told
    if isinstance(box, boxes.ReplacedBox):
        _image_slot(box, form, page, safe=safe)
        return
    if isinstance(box, boxes.LineBox):
        _line_slots(box, form, page, block=block, safe=safe)
        return
    if isinstance(box, boxes.BlockContainerBox):
        block = box
    if isinstance(box, boxes.ParentBox):
        for child in box.children:
            _find_slots(child, form, page, block=block, safe=safe)


def _image_slot(box: boxes.ReplacedBox, form: Form, page: int, *, safe: bool) -> None:
    index = _index(box, "data-j")
    if index is None:
        return
    if not safe or box.style["width"] == "auto" or box.style["height"] == "auto":
        raise NotAFormError("an image field must have its size in CSS, in a fixed layout")
    slots = form.images.setdefault(index, [])
    if any(slot.page == page for slot in slots):
        raise NotAFormError(f"image {index} twice on a page")
    slots.append(
        ImageSlot(
            page,
            box.content_box_x() * PX,
            box.content_box_y() * PX,
            box.width * PX,
            box.height * PX,
        )
    )


def _index(box: boxes.Box, attribute: str) -> int | None:
    element = box.element
    if element is None or element.get("class") != "f" or "::" in box.element_tag:
        return None
    value = element.get(attribute)
    return int(value) if value is not None else None


def _leaves(box: boxes.Box, field: int | None) -> Iterator[tuple[boxes.Box, int | None]]:
    """The line's text and atomic boxes in order, each with the field it belongs to."""
    if isinstance(box, boxes.InlineBox):
        field = _index(box, "data-i") if _index(box, "data-i") is not None else field
    if isinstance(box, boxes.ParentBox) and not isinstance(box, boxes.AtomicInlineLevelBox):
        for child in box.children:
            yield from _leaves(child, field)
    else:
        yield box, field


def _line_slots(line: boxes.LineBox, form: Form, page: int, *, block, safe: bool) -> None:
    leaves = list(_leaves(line, None))
    for leaf, _ in leaves:
        if isinstance(leaf, boxes.ReplacedBox):
            _image_slot(leaf, form, page, safe=safe)
    fields = {index for _, index in leaves if index is not None}
    for index in fields:
        own = [leaf for leaf, owner in leaves if owner == index]
        others = [(n, leaf) for n, (leaf, owner) in enumerate(leaves) if owner != index]
        slots = form.texts.setdefault(index, [])
        if not safe or any(slot.page == page for slot in slots) or len(own) != 1:
            raise NotAFormError(f"field {index} is not one line in a fixed layout")
        (text,) = own
        if not isinstance(text, boxes.TextBox) or block is None:
            raise NotAFormError(f"field {index} holds no text")
        style = text.style
        if (
            style["letter_spacing"] != "normal"
            or style["word_spacing"] != 0
            or style["text_transform"] != "none"
            or style["text_decoration_line"] != "none"
        ):
            raise NotAFormError(f"field {index}: spacing or decoration is not drawn")
        position = next(n for n, (leaf, owner) in enumerate(leaves) if owner == index)
        align = _alignment(block, line)
        # Left-aligned, nothing may follow it; otherwise it must be alone on its line.
        after = [leaf for n, leaf in others if n > position or align != "left"]
        if any(not _blank(leaf) for leaf in after):
            raise NotAFormError(f"field {index} has text after it on its line")
        color = style["color"].to("srgb")
        slots.append(
            TextSlot(
                page=page,
                start=block.content_box_x() * PX,
                left=text.position_x * PX,
                right=(block.content_box_x() + block.width) * PX,
                baseline=(text.position_y + text.baseline) * PX,
                align=align,
                font=_font(style["font_family"], style["font_weight"], style["font_style"]),
                size=style["font_size"] * PX,
                color=(color[0], color[1], color[2]),
            )
        )


def _alignment(block, line: boxes.LineBox) -> str:
    align = block.style["text_align_all"]
    if align == "justify":
        last = block.children and block.children[-1] is line
        align = block.style["text_align_last"] if last else "justify"
        align = "start" if align == "auto" else align
    if align in ("left", "start"):
        return "left"
    if align in ("right", "end"):
        return "right"
    if align == "center":
        return "center"
    raise NotAFormError(f"text-align {align} is not drawn")


def _blank(box: boxes.Box) -> bool:
    return isinstance(box, boxes.TextBox) and not box.text.strip()


@cache
def _font(families: tuple[str, ...], weight: int, style: str) -> str:
    """A reportlab font for a CSS font, from the same file fontconfig gives WeasyPrint."""
    pattern = f"{families[0]}:weight={'bold' if weight >= 600 else 'regular'}"
    if style != "normal":
        pattern += ":slant=italic"
    command = ["fc-match", "--format=%{file}", pattern]  # fontconfig, as WeasyPrint asks it
    path = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    name = f"form-{families[0]}-{weight}-{style}"
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def fill(form: Form, document: Document) -> bytes | None:
    """The document as PDF: its fields drawn over the form; None when one doesn't fit."""
    placed = []
    for index, text in enumerate(document.texts):
        value = _collapse(text)
        slots = form.texts.get(index)
        if not slots:
            if value:
                raise NotAFormError(f"field {index} was not laid out")
            continue
        for slot in slots:
            left = _place(slot, pdfmetrics.stringWidth(value, slot.font, slot.size))
            if left is None:
                return None
            placed.append((slot, left, value))
    overlay = io.BytesIO()
    canvas = Canvas(overlay, pagesize=form.sizes[0], pageCompression=1, invariant=1)
    for number, size in enumerate(form.sizes):
        canvas.setPageSize(size)
        height = size[1]
        for slot, left, value in placed:
            if slot.page == number:
                canvas.setFont(slot.font, slot.size)
                canvas.setFillColorRGB(*slot.color)
                canvas.drawString(left, height - slot.baseline, value)
        for index, image_slots in form.images.items():
            for image in image_slots:
                if image.page == number:
                    canvas.drawImage(
                        ImageReader(io.BytesIO(_data_uri_bytes(document.images[index]))),
                        image.left,
                        height - image.top - image.height,
                        image.width,
                        image.height,
                    )
        canvas.showPage()
    canvas.save()
    return _under(form, overlay.getvalue(), document.title)


def _place(slot: TextSlot, width: float) -> float | None:
    """Where text of this width starts in its slot, or None when it would not fit."""
    if slot.align == "left":
        return slot.left if width <= slot.right - slot.left - ROOM else None
    if width > slot.right - slot.start - ROOM:
        return None
    if slot.align == "right":
        return slot.right - width
    return (slot.start + slot.right - width) / 2


def _collapse(text: str) -> str:
    """The text as CSS shows it (white-space: normal): runs of spaces and newlines as one
    space, none at the ends; no-break spaces kept."""
    return SPACES.sub(" ", text).strip(" ")


def _data_uri_bytes(uri: str) -> bytes:
    header, _, data = uri.partition(",")
    return base64.b64decode(data) if header.endswith(";base64") else data.encode()


def _under(form: Form, overlay_pdf: bytes, title: str) -> bytes:
    """The overlay's pages with the form's page under each, as one PDF file."""
    writer = PdfWriter()
    overlay = PdfReader(io.BytesIO(overlay_pdf))
    for number, page in enumerate(overlay.pages):
        new = writer.add_page(page)
        form_page = form.pdf.pages[number]
        xobject = form_page.raw_get("/Contents").get_object().clone(writer)
        xobject.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): form_page.mediabox,
                NameObject("/Resources"): form_page["/Resources"].clone(writer),
            }
        )
        reference = xobject.indirect_reference
        resources = new["/Resources"].get_object()
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
        xobjects[NameObject("/FormPage")] = reference
        resources[NameObject("/XObject")] = xobjects
        under = StreamObject()
        under.set_data(b"q /FormPage Do Q\n")
        contents = new.raw_get("/Contents")
        existing = contents.get_object()
        if isinstance(existing, ArrayObject):
            parts = list(existing)
        elif isinstance(contents, IndirectObject):
            parts = [contents]
        else:
            parts = [writer._add_object(existing)]
        new[NameObject("/Contents")] = ArrayObject([writer._add_object(under), *parts])
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_many(htmls: Sequence[str], whole: Callable[[str], bytes]) -> list[bytes]:
    """PDF files of documents of one template: a form shared by two or more is laid out
    once; the rest, and any document a form can't hold, by `whole(html)`."""
    parts = [take_apart(html) for html in htmls]
    groups: dict[str, list[int]] = {}
    for number, part in enumerate(parts):
        if part is not None:
            groups.setdefault(part.form, []).append(number)
    files: list[bytes | None] = [None] * len(htmls)
    for form_html, members in groups.items():
        if len(members) < 2:
            continue
        try:
            form = lay_out_form(form_html)
            for number in members:
                files[number] = fill(form, parts[number])
        except NotAFormError:
            continue
    return [
        data if data is not None else whole(html) for data, html in zip(files, htmls, strict=True)
    ]
