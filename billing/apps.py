from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Начисления и оплаты"

    def ready(self) -> None:
        from billing import requisites  # noqa: F401 - registers the check of the requisites
