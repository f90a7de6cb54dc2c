"""The benchmark's Django app."""

from django.apps import AppConfig


class DjangoPeerConfig(AppConfig):
    """The app holding the peer's ``Issue`` model."""

    name = "djangopeer"
    default_auto_field = "django.db.models.AutoField"
