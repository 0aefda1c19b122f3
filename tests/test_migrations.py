import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # Fails with "Model changes with no migrations detected" (exit 1) when they drift.
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)
