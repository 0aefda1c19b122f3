"""Who may change money: each money-changing action has its own permission, checked in the
service that does it (a view's check is a courtesy, not the guard). Actions done by the
portal itself (beat, workers, a bank's file through its job) pass no user."""

from django.core.exceptions import PermissionDenied

from accounts.models import User

# The action, the permission it needs, and the Russian name of what is refused.
MONEY_ACTIONS = {
    "book_payment": ("billing.add_payment", "вносить платежи"),
    "charge_correction": ("billing.book_charge_correction", "проводить перерасчёт начислений"),
    "penalty_correction": ("billing.book_penalty_correction", "корректировать пени"),
    "run_billing": ("billing.change_period", "запускать расчёт начислений"),
    "close_period": ("billing.change_period", "закрывать расчётные периоды"),
    "import_registry": ("billing.add_registryimport", "загружать реестры платежей"),
    "resolve_unidentified": (
        "billing.change_unidentifiedpayment",
        "разносить невыясненные платежи",
    ),
}


def may(user: User | None, action: str) -> bool:
    permission, _ = MONEY_ACTIONS[action]
    return user is None or user.has_perm(permission)


def require(user: User | None, action: str) -> None:
    """Refuse a staff member without the action's permission, in Russian."""
    if not may(user, action):
        raise PermissionDenied(f"Нет права {MONEY_ACTIONS[action][1]}.")
