from django.apps import AppConfig


class DebtorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "debtors"
    verbose_name = "Работа с задолженностью"
