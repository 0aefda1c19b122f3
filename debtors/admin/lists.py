"""The lawyer's view of the published lists (docs/architecture.md §9): snapshots are read-only
facts; the one thing staff do is take an entry off at once (debtors.lists.remove_entry)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from debtors import lists
from debtors.admin.common import ReadOnlyMixin
from debtors.models import PublishedEntry, PublishedList


class EntryInline(ReadOnlyMixin, admin.TabularInline):
    model = PublishedEntry
    fields = ("name", "inn", "debt", "days_overdue", "removed_at", "removed_by")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublishedEntry]:
        return super().get_queryset(request).select_related("removed_by")


@admin.register(PublishedList)
class PublishedListAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "snapshot_on", "published_at", "threshold", "min_days")
    list_filter = ("kind",)
    date_hierarchy = "snapshot_on"
    fields = ("kind", "snapshot_on", "published_at", "threshold", "min_days")
    readonly_fields = fields
    inlines = [EntryInline]


class RemovedFilter(admin.SimpleListFilter):
    title = "на сайте"
    parameter_name = "shown"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Показывается"), ("no", "Снят с публикации")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[PublishedEntry]
    ) -> QuerySet[PublishedEntry]:
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(PublishedEntry)
class PublishedEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "inn",
        "debt",
        "days_overdue",
        "published_list",
        "removed_at",
        "removed_by",
    )
    list_filter = (RemovedFilter, "published_list__kind", "published_list__snapshot_on")
    list_select_related = ("published_list", "removed_by")
    search_fields = ("name", "inn")
    fields = (
        "published_list",
        "subscriber",
        "name",
        "inn",
        "debt",
        "days_overdue",
        "removed_at",
        "removed_by",
    )
    readonly_fields = fields
    actions = ["unpublish"]

    def has_unpublish_permission(self, request: HttpRequest) -> bool:
        # The lawyer group holds change_publishedentry (debtors migration 0002); the rows
        # themselves stay read-only, so the action has its own permission check.
        return request.user.has_perm("debtors.change_publishedentry")

    @admin.action(description="Снять с публикации", permissions=["unpublish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[PublishedEntry]) -> None:
        removed = 0
        for entry in queryset.filter(removed_at__isnull=True).order_by("pk"):
            lists.remove_entry(entry_id=entry.pk, by=request.user)
            removed += 1
        messages.success(request, f"Снято с публикации: {removed}.")
