"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.
Beat's crontabs read the portal's clock (vodokanal/common/clock.py), so a development run with
VODOKANAL_TODAY fires the monthly jobs of that day."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vodokanal.settings")


class PortalCelery(Celery):
    def now(self):
        from vodokanal.common import clock

        return clock.now()


app = PortalCelery("vodokanal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
