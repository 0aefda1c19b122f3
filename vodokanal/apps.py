from django.apps import AppConfig

from vodokanal.common.printing import qr_mask


class VodokanalConfig(AppConfig):
    name = "vodokanal"
    verbose_name = "Водоканал"

    def ready(self) -> None:
        group_money_in_the_admin()
        # segno's choice of a QR code's data mask, made in a fraction of its time (the same
        # mask, the same symbol): once, at start-up, for every process of the portal.
        qr_mask.install()


def group_money_in_the_admin() -> None:
    """The admin shows money (a DecimalField with two places: roubles and kopecks) with its
    thousands grouped, as the rest of the portal does: «1 219 744,38», not «1219744,38».
    Django's admin formats a DecimalField in one function, imported by its list and its
    read-only fields; both take this wrapper."""
    from django.contrib.admin import helpers, utils
    from django.contrib.admin.templatetags import admin_list
    from django.db import models
    from django.utils import formats

    original = utils.display_for_field

    def display_for_field(value, field, empty_value_display, avoid_link=False):  # type: ignore[no-untyped-def]
        if (
            isinstance(field, models.DecimalField)
            and field.decimal_places == 2
            and not getattr(field, "flatchoices", None)
            and value not in field.empty_values
        ):
            return formats.number_format(value, 2, force_grouping=True)
        return original(value, field, empty_value_display, avoid_link)

    admin_list.display_for_field = display_for_field
    helpers.display_for_field = display_for_field
