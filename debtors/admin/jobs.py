"""Reference data (state-fee scales) and bulk jobs."""

from datetime import date

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from debtors import bulk
from debtors.admin.common import ReadOnlyAdmin, dmy
from debtors.admin.filters import ActionFilter, StatusFilter
from debtors.models import (
    BulkJob,
    StateFeeBand,
)

# --- Reference data and jobs ---


@admin.register(StateFeeBand)
class StateFeeBandAdmin(admin.ModelAdmin):
    """The state-fee scale is data the lawyer keeps current when the Tax Code changes."""

    list_display = ("scale", "up_to", "base", "percent", "over", "min_fee", "max_fee")
    list_filter = ("scale",)
    # The Russian decimal comma: "4000,00".
    formfield_overrides = {models.DecimalField: {"localize": True}}


@admin.register(BulkJob)
class BulkJobAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status_label", "progress", "author", "created", "finished")  # fmt: skip
    list_filter = (("status", StatusFilter), ActionFilter)
    list_select_related = ("created_by",)
    fields = (
        "title", "status_label", "progress", "total", "done", "failed", "court", "on",
        "refusals", "author", "created", "finished",
    )  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/debtors/bulkjob/change_form.html"

    def tools(self, request: HttpRequest, job: BulkJob) -> list[tuple[str, str]]:
        if job.status == BulkJob.Status.DONE or request.GET.get("norefresh"):
            return []
        return [("?norefresh=1", "Не обновлять страницу")]  # the page reloads every 3 s

    @admin.display(description="№", ordering="pk")
    def number(self, job: BulkJob) -> str:
        return str(job.pk)

    @admin.display(description="действие", ordering="action")
    def title(self, job: BulkJob) -> str:
        return bulk.action_label(job.action)

    @admin.display(description="дата документов")
    def on(self, job: BulkJob) -> str:
        day = job.params.get("on")
        return dmy(date.fromisoformat(day)) if day else "—"

    @admin.display(description="суд")
    def court(self, job: BulkJob) -> str:
        return job.params.get("court") or "—"

    @admin.display(description="ход")
    def progress(self, job: BulkJob) -> str:
        processed = job.done + job.failed
        return format_html(
            '<progress max="{}" value="{}" aria-label="Обработано дел">{} из {}</progress> '
            "обработано {} из {}",
            max(job.total, 1), processed, processed, job.total, processed, job.total,
        )  # fmt: skip

    @admin.display(description="отказы")
    def refusals(self, job: BulkJob) -> str:
        if not job.errors:
            return "нет"
        rows = (
            (reverse("admin:debtors_debtcase_change", args=[error["case"]]),
             error.get("account") or error["case"], error["reason"])
            for error in job.errors
        )  # fmt: skip
        return format_html(
            '<table class="bulk-refusals"><thead><tr><th scope="col">Лицевой счёт</th>'
            '<th scope="col">Причина отказа</th></tr></thead><tbody>{}</tbody></table>',
            format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td></tr>', rows),
        )
