"""The lawyer's workplace (docs/architecture.md §9): debt cases with their filters, full history,
documents and their delivery, court cases with the payments after the decision,
restrictions, instalment agreements; bulk actions run by a worker with their progress; the
dashboard. Figures are read-only here: every move goes through a form page that calls the
service, which checks the legal preconditions and answers in Russian."""

from debtors.admin import agreements, cases, court, documents, jobs, lists, restrictions  # noqa: F401
