from django.apps import AppConfig
from django.core import checks


class SecurityConfig(AppConfig):
    name = "apps.security"
    label = "security"
    verbose_name = "Security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import fernet_keys_check

        checks.register(fernet_keys_check, checks.Tags.security)
