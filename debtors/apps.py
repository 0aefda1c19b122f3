from django.apps import AppConfig


class DebtorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "debtors"
    verbose_name = "Работа с задолженностью"

    def ready(self) -> None:
        # Tasks outside tasks.py, registered for the worker (autodiscovery finds tasks.py only).
        from debtors import bulk_tasks  # noqa: F401
