from django.apps import AppConfig


class DebtorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "debtors"
    verbose_name = "Работа с задолженностью"

    def ready(self) -> None:
        # Admin modules that live beside their code (admin.autodiscover finds admin.py only).
        from debtors import bulk_tasks, lists_admin  # noqa: F401
