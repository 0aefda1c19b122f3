"""The phone line's HTTP endpoint, included by vodokanal/urls.py at the root."""

from django.urls import path

from meters.voice import webhook

app_name = "voice"

urlpatterns = [
    path("voice/webhook/", webhook.webhook, name="webhook"),
]
