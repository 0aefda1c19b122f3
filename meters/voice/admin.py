"""Staff view of the phone line: calls with their turns, recordings, and statistics by day.

The log is read-only: nobody adds, edits or deletes calls. Recordings (kept only when
settings.VOICE_KEEP_RECORDINGS is true) are served through a staff view with the permission
check, never from a public media URL."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from meters.models import PhoneCall, PhoneTurn
from meters.voice.selectors import call_statistics
from vodokanal.common import clock

STATISTICS_PERIODS = (7, 30, 90, 365)  # days the statistics page offers
DEFAULT_PERIOD = 30


class PhoneTurnInline(admin.TabularInline):
    model = PhoneTurn
    fields = (
        "n",
        "created_at",
        "event",
        "heard_text",
        "heard_digits",
        "understood",
        "problem",
        "prompt",
        "action",
        "reading",
        "recording_link",
    )
    readonly_fields = fields
    ordering = ("n",)
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description="запись")
    def recording_link(self, turn: PhoneTurn) -> str:
        if not turn.recording:
            return "—"
        url = reverse("admin:meters_phonecall_recording", args=[turn.pk])
        return format_html('<a href="{}">Прослушать</a>', url)


@admin.register(PhoneCall)
class PhoneCallAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "call_id",
        "adapter",
        "caller",
        "account",
        "outcome",
        "readings_stored",
        "retries",
        "duration",
    )
    list_filter = ("outcome", "adapter", "started_at")
    date_hierarchy = "started_at"
    search_fields = ("call_id", "caller", "account__number")
    list_select_related = ("account",)
    fields = (
        "call_id",
        "adapter",
        "caller",
        "account",
        "started_at",
        "ended_at",
        "duration",
        "outcome",
        "readings_stored",
        "retries",
        "state",
    )
    readonly_fields = fields
    inlines = [PhoneTurnInline]
    change_list_template = "admin/meters/voice/phonecall_change_list.html"

    @admin.display(description="длительность")
    def duration(self, call: PhoneCall) -> str:
        if call.ended_at is None:
            return "—"
        seconds = int((call.ended_at - call.started_at).total_seconds())
        return f"{seconds // 60}:{seconds % 60:02d}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        custom = [
            path(
                "statistics/",
                self.admin_site.admin_view(self.statistics_view),
                name="meters_phonecall_statistics",
            ),
            path(
                "recording/<int:turn_id>/",
                self.admin_site.admin_view(self.recording_view),
                name="meters_phonecall_recording",
            ),
        ]
        return custom + super().get_urls()

    def statistics_view(self, request: HttpRequest) -> HttpResponse:
        """Calls, completed calls, readings stored, retries and transfers by day."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            period = int(request.GET.get("days", DEFAULT_PERIOD))
        except ValueError:
            period = DEFAULT_PERIOD
        if period not in STATISTICS_PERIODS:
            period = DEFAULT_PERIOD
        last = clock.today()
        days, total = call_statistics(first=last - timedelta(days=period - 1), last=last)
        context = {
            **self.admin_site.each_context(request),
            "title": "Линия показаний: статистика звонков",
            "opts": self.model._meta,
            "days": days,
            "total": total,
            "period": period,
            "periods": STATISTICS_PERIODS,
        }
        return render(request, "admin/meters/voice/statistics.html", context)

    def recording_view(self, request: HttpRequest, turn_id: int) -> FileResponse:
        if not self.has_view_permission(request):
            raise Http404
        turn = get_object_or_404(PhoneTurn, pk=turn_id)
        if not turn.recording:
            raise Http404
        return FileResponse(turn.recording.open("rb"), content_type="audio/wav")
