from django.apps import AppConfig


class RunnersConfig(AppConfig):
    """The platform's side of the isolated runners that user code runs in (DESIGN §6)."""

    name = "apps.runners"
    label = "runners"
    verbose_name = "code runners"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
