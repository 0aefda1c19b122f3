"""Many documents of one template, laid out once per form: variable-data printing.

A template marks its variable text with the `field` filter (templatetags/pdf_fields.py),
which wraps it in `<span class="f">`, and a variable image (a PNG data URI) with
`class="f"`. Documents of a batch whose HTML is the same once their fields are set aside
share a form: the same rows, the same branches. WeasyPrint lays each form out once, with
its fields hidden; every document of the form is that page, as a Form XObject (pypdf), with
its own field texts drawn where the layout put them (reportlab, with the font file
fontconfig gives WeasyPrint) and its images embedded as they are. The batch's print file
is written from the same pages, each form's page once.

Nothing is assumed: the layout must prove that a field can't move anything else. A field
is one line, in a fixed-layout table or a plain block, and either the last text on its line
(left-aligned) or alone on it (right-aligned or centred). A form that breaks a rule, a
value wider than its place or with a character the font lacks, sends the document to a
whole layout of its own, as one document is rendered (vodokanal/common/printing/pdf.py): every file reads as
WeasyPrint lays it out.
"""

import base64
import html as html_lib
import io
import re
import struct
import subprocess
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

PX = 0.75  # CSS px to PDF pt
ROOM = 1.0  # pt kept free at a field's end: HarfBuzz and reportlab measure a hair apart

FIELD = re.compile(r'<span class="f">(.*?)</span>', re.S)
IMAGE = re.compile(r'<img class="f" src="([^"]*)"')
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
SPACES = re.compile(r"[ \t\n\r]+")  # what CSS collapses (white-space: normal)
HIDDEN = "<style>[data-i], [data-j] { visibility: hidden }</style></head>"
# Characters WeasyPrint lays out in ways a drawn line can't follow: line and paragraph
# separators break the line, soft hyphens and other format characters are invisible.
UNDRAWABLE = {"Zl", "Zp", "Cc", "Cf"}
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
    root = document.pages[0]._page_box.children[0].element
    parents = {child: parent for parent in root.iter() for child in parent}
    for number, page in enumerate(document.pages):
        _find_slots(page._page_box, form, number, block=None, safe=True, parents=parents)
    for page in form.pdf.pages:
        contents = page.raw_get("/Contents")
        if not isinstance(contents, IndirectObject) or not isinstance(
            contents.get_object(), StreamObject
        ):
            raise NotAFormError("a page of the form is drawn by more than one stream")
    return form


def _find_slots(box: boxes.Box, form: Form, page: int, *, block, safe: bool, parents: dict) -> None:
    style = box.style
    if isinstance(box, boxes.TableBox) and (
        style["table_layout"] != "fixed" or style["width"] == "auto"
    ):
        safe = False  # column widths would follow the content (fixed needs a width)
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
        _line_slots(box, form, page, block=block, safe=safe, parents=parents)
        return
    if isinstance(box, boxes.BlockContainerBox):
        block = box
    if isinstance(box, boxes.ParentBox):
        for child in box.children:
            _find_slots(child, form, page, block=block, safe=safe, parents=parents)


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
        own = _index(box, "data-i")
        field = own if own is not None else field
    if isinstance(box, boxes.ParentBox) and not isinstance(box, boxes.AtomicInlineLevelBox):
        for child in box.children:
            yield from _leaves(child, field)
    else:
        yield box, field


def _line_slots(
    line: boxes.LineBox, form: Form, page: int, *, block, safe: bool, parents: dict
) -> None:
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
            or style["font_kerning"] != "none"
            or style["font_variant_ligatures"] != "none"
        ):
            # reportlab draws glyph by glyph: no kerning, no ligatures, no spacing.
            raise NotAFormError(f"field {index}: kerning, spacing or decoration is not drawn")
        position = next(n for n, (leaf, owner) in enumerate(leaves) if owner == index)
        align = _alignment(block, line)
        if align != "left" and block.style["text_indent"].value != 0:
            raise NotAFormError(f"field {index}: an indented line is not aligned here")
        # Left-aligned, nothing may follow it; otherwise it must be alone on its line.
        after = [leaf for n, leaf in others if n > position or align != "left"]
        if any(not _blank(leaf) for leaf in after):
            raise NotAFormError(f"field {index} has text after it on its line")
        # What comes next is a forced break or the block's end, so no text after it could
        # come up to its line; and if it starts its line, so does a forced break or the
        # block, so no word of it could go up to the line before.
        element = text.element
        first = all(_blank(leaf) for n, leaf in others if n < position)
        if not _at_break(element, parents, block.element, after=True) or (
            first and not _at_break(element, parents, block.element, after=False)
        ):
            raise NotAFormError(f"field {index} is not set apart by line breaks")
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


def _at_break(element, parents: dict, block_element, *, after: bool) -> bool:
    """Whether a <br> or the edge of the block comes right after (or before) the element,
    with only collapsible space between."""
    node = element
    while True:
        parent = parents.get(node)
        if parent is None:
            return False
        siblings = list(parent)
        at = siblings.index(node)
        if after:
            between = node.tail
            neighbour = siblings[at + 1] if at + 1 < len(siblings) else None
        else:
            between = siblings[at - 1].tail if at else parent.text
            neighbour = siblings[at - 1] if at else None
        if SPACES.sub("", between or ""):
            return False
        if neighbour is not None:
            return neighbour.tag == "br"
        if parent is block_element:
            return True
        node = parent  # the edge of an inline element around it: look past it


def _alignment(block, line: boxes.LineBox) -> str:
    align = block.style["text_align_all"]
    if align == "justify":
        # Which lines WeasyPrint justifies depends on where the paragraph breaks.
        raise NotAFormError("a field in justified text is not drawn")
    if align in ("left", "start"):
        return "left"
    if align in ("right", "end"):
        return "right"
    if align == "center":
        return "center"
    raise NotAFormError(f"text-align {align} is not drawn")


def _blank(box: boxes.Box) -> bool:
    return isinstance(box, boxes.TextBox) and not SPACES.sub("", box.text)


@cache
def _font(families: tuple[str, ...], weight: int, style: str) -> str:
    """A reportlab font for a CSS font, from the same file fontconfig gives WeasyPrint."""
    pattern = f"{families[0]}:weight={'bold' if weight >= 600 else 'regular'}"
    if style != "normal":
        pattern += ":slant=italic"
    command = ["fc-match", "--format=%{file}", pattern]  # fontconfig, as WeasyPrint asks it
    try:
        path = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
        name = f"form-{families[0]}-{weight}-{style}"
        pdfmetrics.registerFont(TTFont(name, path))
    except (OSError, subprocess.CalledProcessError, TTFError) as error:
        # No fontconfig tool, or a font reportlab can't draw with: lay out whole.
        raise NotAFormError(f"no font file for {pattern}: {error}") from error
    return name


@dataclass(frozen=True)
class Drawn:
    """A document drawn over its form: its pages in its group's overlay, from `first`."""

    form: Form
    overlay: PdfReader  # the text of every document of the form, one page per page
    first: int
    images: tuple[tuple[ImageSlot, bytes], ...]  # each image field's place and PNG
    title: str


def draw(form: Form, documents: dict[int, Document]) -> dict[int, Drawn]:
    """The documents whose fields fit their places, drawn over the form (by number);
    the others are left out, to be laid out whole."""
    placed: dict[int, list[tuple[TextSlot, float, str]]] = {}
    for number, document in documents.items():
        fields = _placed(form, document)
        if fields is not None:
            placed[number] = fields
    overlay = io.BytesIO()
    canvas = Canvas(overlay, pagesize=form.sizes[0], pageCompression=1, invariant=1)
    for fields in placed.values():
        for page, size in enumerate(form.sizes):
            canvas.setPageSize(size)
            for slot, left, value in fields:
                if slot.page == page:
                    canvas.setFont(slot.font, slot.size)
                    canvas.setFillColorRGB(*slot.color)
                    canvas.drawString(left, size[1] - slot.baseline, value)
            canvas.showPage()
    canvas.save()
    reader = PdfReader(overlay)
    pages = len(form.sizes)
    return {
        number: Drawn(
            form=form,
            overlay=reader,
            first=order * pages,
            images=tuple(
                (slot, _checked_png(documents[number].images[index]))
                for index, slots in form.images.items()
                for slot in slots
            ),
            title=documents[number].title,
        )
        for order, number in enumerate(placed)
    }


def _placed(form: Form, document: Document) -> list[tuple[TextSlot, float, str]] | None:
    """Each field's slots with where its text starts; None when one doesn't fit."""
    placed = []
    for index, text in enumerate(document.texts):
        value = _collapse(text)
        if any(unicodedata.category(character) in UNDRAWABLE for character in value):
            return None
        slots = form.texts.get(index)
        if not slots:
            if value:
                raise NotAFormError(f"field {index} was not laid out")
            continue
        for slot in slots:
            if not set(value) <= _characters(slot.font):
                return None  # WeasyPrint would take the glyph from another font
            left = _place(slot, pdfmetrics.stringWidth(value, slot.font, slot.size))
            if left is None:
                return None
            placed.append((slot, left, value))
    return placed


@cache
def _characters(font: str) -> frozenset[str]:
    return frozenset(map(chr, pdfmetrics.getFont(font).face.charToGlyph))


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


def _checked_png(uri: str) -> bytes:
    """The PNG of an image field's data URI, checked to be one PDF can take as it is."""
    header, _, data = uri.partition(",")
    if not header.startswith("data:image/png"):
        raise NotAFormError("an image field must be a PNG data URI")
    png = base64.b64decode(data) if header.endswith(";base64") else data.encode()
    _png_image(png)
    return png


def _png_image(png: bytes) -> StreamObject:
    """A PNG as a PDF image, its compressed data taken as it is (PDF reads PNG's
    predictors): grey or palette, 8 bits or fewer, no alpha, not interlaced."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise NotAFormError("not a PNG")
    chunks: dict[bytes, bytes] = {}
    position = 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunks[kind] = chunks.get(kind, b"") + png[position + 8 : position + 8 + length]
        position += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    if color not in (0, 3) or depth > 8 or interlace:
        raise NotAFormError("a PNG field must be grey or palette, not interlaced")
    if color == 0:
        space: object = NameObject("/DeviceGray")
    else:
        palette = chunks[b"PLTE"]
        space = ArrayObject(
            [
                NameObject("/Indexed"),
                NameObject("/DeviceRGB"),
                NumberObject(len(palette) // 3 - 1),
                ByteStringObject(palette),
            ]
        )
    image = StreamObject()
    image._data = chunks[b"IDAT"]
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width),
            NameObject("/Height"): NumberObject(height),
            NameObject("/BitsPerComponent"): NumberObject(depth),
            NameObject("/ColorSpace"): space,
            NameObject("/Filter"): NameObject("/FlateDecode"),
            NameObject("/DecodeParms"): DictionaryObject(
                {
                    NameObject("/Predictor"): NumberObject(15),
                    NameObject("/Colors"): NumberObject(1),
                    NameObject("/BitsPerComponent"): NumberObject(depth),
                    NameObject("/Columns"): NumberObject(width),
                }
            ),
        }
    )
    return image


class Output:
    """A PDF file of drawn documents and whole ones, pages in the order they are added.
    A form's page is written once per file however many documents use it."""

    def __init__(self) -> None:
        self.writer = PdfWriter()
        self._forms: dict[tuple[int, int], IndirectObject] = {}

    def add(self, drawn: Drawn) -> None:
        language = drawn.form.pdf.trailer["/Root"].get("/Lang")
        if language is not None:  # the document's language, for screen readers
            self.writer._root_object[NameObject("/Lang")] = language
        for page in range(len(drawn.form.sizes)):
            new = self.writer.add_page(drawn.overlay.pages[drawn.first + page])
            names = {"/FormPage": self._form_page(drawn.form, page)}
            operations = ["q /FormPage Do Q"]
            height = drawn.form.sizes[page][1]
            for number, (slot, png) in enumerate(drawn.images):
                if slot.page == page:
                    name = f"/Field{number}"
                    names[name] = self.writer._add_object(_png_image(png))
                    bottom = height - slot.top - slot.height
                    operations.append(
                        f"q {slot.width:.4f} 0 0 {slot.height:.4f} {slot.left:.4f} "
                        f"{bottom:.4f} cm {name} Do Q"
                    )
            resources = new["/Resources"].get_object()
            xobjects = resources.get("/XObject")
            xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
            for name, reference in names.items():
                xobjects[NameObject(name)] = reference
            resources[NameObject("/XObject")] = xobjects
            under = StreamObject()
            under.set_data(("\n".join(operations) + "\n").encode())
            contents = new.raw_get("/Contents")
            existing = contents.get_object()
            if isinstance(existing, ArrayObject):
                parts = list(existing)
            elif isinstance(contents, IndirectObject):
                parts = [contents]
            else:
                parts = [self.writer._add_object(existing)]
            new[NameObject("/Contents")] = ArrayObject([self.writer._add_object(under), *parts])

    def _form_page(self, form: Form, page: int) -> IndirectObject:
        key = (id(form), page)
        if key not in self._forms:
            form_page = form.pdf.pages[page]
            xobject = form_page.raw_get("/Contents").get_object().clone(self.writer)
            xobject.update(
                {
                    NameObject("/Type"): NameObject("/XObject"),
                    NameObject("/Subtype"): NameObject("/Form"),
                    NameObject("/BBox"): form_page.mediabox,
                    NameObject("/Resources"): form_page["/Resources"].clone(self.writer),
                }
            )
            self._forms[key] = xobject.indirect_reference
        return self._forms[key]

    def append(self, data: bytes) -> None:
        self.writer.append(io.BytesIO(data))

    def write(self, title: str = "") -> bytes:
        if title:
            self.writer.add_metadata({"/Title": title})
        out = io.BytesIO()
        self.writer.write(out)
        return out.getvalue()


def render_many(htmls: Sequence[str], whole: Callable[[str], bytes]) -> tuple[list[bytes], bytes]:
    """PDF files of documents of one template, and the print file of them all, pages in
    order. A form shared by two or more documents is laid out once; the rest, and any
    document a form can't hold, are laid out whole by `whole(html)`."""
    parts = [take_apart(html) for html in htmls]
    groups: dict[str, list[int]] = {}
    for number, part in enumerate(parts):
        if part is not None:
            groups.setdefault(part.form, []).append(number)
    drawn: dict[int, Drawn] = {}
    for form_html, members in groups.items():
        if len(members) < 2:
            continue
        try:
            form = lay_out_form(form_html)
            drawn.update(draw(form, {number: parts[number] for number in members}))
        except NotAFormError:
            continue
    files = []
    printed = Output()
    for number, html in enumerate(htmls):
        if number in drawn:
            single = Output()
            single.add(drawn[number])
            files.append(single.write(drawn[number].title))
            printed.add(drawn[number])
        else:
            files.append(whole(html))
            printed.append(files[-1])
    return files, printed.write()
