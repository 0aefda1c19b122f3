"""Public pages of the published lists (docs/architecture.md §9; CSV: docs/formats.md §8): no login, cacheable, a CSV copy.

Only what debtors.lists published is shown: organisations' names and INNs, never anything
of a person (docs/architecture.md §9). The rules live in debtors.lists; here is only the shape.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_safe

from debtors import lists
from debtors.models import PublishedEntry, PublishedList
from vodokanal.common import csv_safe

PAGE_SIZE = 25
CACHE_SECONDS = 60  # a lawyer's removal reaches every browser and proxy within a minute


@dataclass(frozen=True)
class Page:
    title: str
    template: str
    file_name: str
    columns: tuple[tuple[str, str], ...]  # (sort key, heading) of sortable columns


SORT_LABELS = {
    "-debt": "по сумме долга, сначала большие",
    "debt": "по сумме долга, сначала меньшие",
    "name": "по наименованию, от А до Я",
    "-name": "по наименованию, от Я до А",
    "-days": "по сроку просрочки, сначала давние",
    "days": "по сроку просрочки, сначала недавние",
}

PAGES = {
    PublishedList.Kind.DEBTORS: Page(
        title="Должники — юридические лица",
        template="debtors/public/debtors.html",
        file_name="dolzhniki",
        columns=(
            ("name", "Наименование"),
            ("debt", "Просроченный долг"),
            ("days", "Дней просрочки"),
        ),
    ),
    PublishedList.Kind.GOOD_PAYERS: Page(
        title="Добросовестные плательщики",
        template="debtors/public/good_payers.html",
        file_name="dobrosovestnye-platelshiki",
        columns=(("name", "Наименование"),),
    ),
}


@dataclass(frozen=True)
class Column:
    heading: str
    key: str  # the `sort` value a click asks for
    state: str  # aria-sort: "ascending", "descending" or ""


def _columns(page: Page, sort: str) -> dict[str, Column]:
    """Headings that sort: a click on the current one reverses it; numbers start large."""
    columns = {}
    for key, heading in page.columns:
        state = {key: "ascending", f"-{key}": "descending"}.get(sort, "")
        if state:
            next_key = key if state == "descending" else f"-{key}"
        else:
            next_key = key if key == "name" else f"-{key}"
        columns[key] = Column(heading, next_key, state)
    return columns


def _etag(kind: str) -> Callable[[HttpRequest], str | None]:
    def etag(request: HttpRequest) -> str | None:
        snapshot = lists.latest_list(kind)
        if snapshot is None:
            return None
        # The menu differs for a logged-in user: a cached anonymous copy must not serve him.
        return f"{lists.last_change(snapshot)}-{request.user.pk or 0}"

    return etag


def _cacheable(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Shared caches may keep the page only for anonymous visitors; a logged-in user's copy
    carries his name in the menu."""
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=0)
    else:
        patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


def _list_page(request: HttpRequest, kind: str) -> HttpResponse:
    page = PAGES[kind]
    sorts = lists.SORTS[kind]
    sort = request.GET.get("sort", "")
    sort = sort if sort in sorts else next(iter(sorts))
    query = request.GET.get("q", "").strip()[:100]
    snapshot = lists.latest_list(kind)
    entries = (
        lists.search_entries(snapshot.entries, kind=kind, query=query, sort=sort)
        if snapshot
        else PublishedEntry.objects.none()
    )
    if request.GET.get("format") == "csv":
        if snapshot is None:
            raise Http404("Список ещё не опубликован.")
        return _cacheable(request, _csv(page, snapshot.published, entries))
    context = {
        "page": page,
        "snapshot": snapshot.published if snapshot else None,
        "entries": Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query,
        "sort": sort,
        "sort_options": [(key, SORT_LABELS[key]) for key in sorts],
        "columns": _columns(page, sort),
    }
    return _cacheable(request, render(request, page.template, context))


def _csv(page: Page, published: PublishedList, entries: QuerySet[PublishedEntry]) -> HttpResponse:
    """UTF-8 with a BOM and `;` between fields: what Excel opens in a Russian locale; every
    cell neutralised (vodokanal.common.csv_safe): a name Excel would run as a formula is text."""
    file_name = f"{page.file_name}-{published.snapshot_on:%Y-%m-%d}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
    response.write("\ufeff")
    writer = csv_safe.writer(response)
    debtors = published.kind == PublishedList.Kind.DEBTORS
    heading = ["Наименование", "ИНН"]
    if debtors:
        heading += ["Просроченная задолженность, руб.", "Дней просрочки"]
    writer.writerow([*heading, "По состоянию на"])
    snapshot_on = f"{published.snapshot_on:%d.%m.%Y}"  # in every row: the file may be renamed
    for entry in entries.iterator():
        row = [entry.name, entry.inn]
        if debtors:
            row += [f"{entry.debt:.2f}".replace(".", ","), str(entry.days_overdue)]
        writer.writerow([*row, snapshot_on])
    return response


@require_safe
@condition(etag_func=_etag(PublishedList.Kind.DEBTORS))
def debtors(request: HttpRequest) -> HttpResponse:
    """Organisations with a large debt overdue for long, as of the latest snapshot."""
    return _list_page(request, PublishedList.Kind.DEBTORS)


@require_safe
@condition(etag_func=_etag(PublishedList.Kind.GOOD_PAYERS))
def good_payers(request: HttpRequest) -> HttpResponse:
    """Organisations that paid on time for the last 12 months, as of the latest snapshot."""
    return _list_page(request, PublishedList.Kind.GOOD_PAYERS)
