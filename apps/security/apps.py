from django.apps import AppConfig
from django.core import checks


class SecurityConfig(AppConfig):
    name = "apps.security"
    label = "security"
    verbose_name = "Security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from . import schema  # noqa: F401  # registers the token scheme with drf-spectacular
        from .checks import fernet_keys_check
        from .fields import decrypt_loaded_secrets

        checks.register(fernet_keys_check, checks.Tags.security)
        pre_save.connect(decrypt_loaded_secrets, dispatch_uid="security.decrypt_loaded_secrets")
