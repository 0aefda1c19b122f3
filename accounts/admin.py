"""Staff work on subscribers and accounts in the admin (operators, accountants, lawyers)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AccountLink, PersonalAccount, Subscriber, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "phone", "is_active", "is_staff", "email_confirmed_at")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("email", "full_name", "phone")
    readonly_fields = ("date_joined", "last_login", "email_confirmed_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Личные данные", {"fields": ("full_name", "phone")}),
        (
            "Доступ",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Даты", {"fields": ("date_joined", "last_login", "email_confirmed_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "phone", "password1", "password2"),
            },
        ),
    )


class PersonalAccountInline(admin.TabularInline):
    model = PersonalAccount
    fields = ("number", "address", "residents", "tariff_category", "closed_on")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Subscriber)
class SubscriberAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "kind_to_check", "inn", "kpp", "contract_number", "phone")
    list_filter = ("kind", "kind_to_check", "socially_important")
    search_fields = ("name", "short_name", "inn", "ogrn", "accounts__number", "accounts__address")
    fieldsets = (
        (None, {"fields": ("kind", "name", "short_name")}),
        ("Реквизиты", {"fields": ("inn", "kpp", "ogrn", "legal_address", "postal_address")}),
        ("Руководитель организации", {"fields": ("head_position", "head_name")}),
        ("Контакты", {"fields": ("email", "phone")}),
        (
            "Договор",
            {"fields": ("contract_number", "contract_date", "due_day", "socially_important")},
        ),
    )
    inlines = [PersonalAccountInline]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        obj.kind_to_check = False  # staff saw the kind and saved it
        super().save_model(request, obj, form, change)


class AccountLinkInline(admin.TabularInline):
    model = AccountLink
    fields = ("user", "confirmed_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = True

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class OpenClosedFilter(admin.SimpleListFilter):
    title = "состояние"
    parameter_name = "state"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return (("open", "Открыт"), ("closed", "Закрыт"))

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "open":
            return queryset.filter(closed_on__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_on__isnull=False)
        return queryset


@admin.register(PersonalAccount)
class PersonalAccountAdmin(SimpleHistoryAdmin):
    list_display = ("number", "address", "subscriber", "residents", "tariff_category", "is_open")
    list_filter = (
        OpenClosedFilter,
        "tariff_category",
        "subscriber__kind",
        "water_supply",
        "sewage",
    )
    search_fields = ("number", "address", "subscriber__name", "subscriber__inn")
    list_select_related = ("subscriber",)
    autocomplete_fields = ("subscriber",)
    readonly_fields = ("link_code",)
    inlines = [AccountLinkInline]

    @admin.display(boolean=True, description="открыт")
    def is_open(self, obj: PersonalAccount) -> bool:
        return obj.is_open

    def get_changeform_initial_data(self, request):  # type: ignore[no-untyped-def]
        from accounts.services import allocate_account_number

        initial = super().get_changeform_initial_data(request)
        initial.setdefault("number", allocate_account_number())
        return initial
