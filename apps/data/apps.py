from django.apps import AppConfig
from django.db.models.signals import pre_migrate


def _set_up_instance(**kwargs) -> None:
    # Migrating sets the instance up, however migrate is called (manage.py, call_command,
    # the test runner): broker folders, static folder, development keys.
    from config import instance

    instance.create()


class DataConfig(AppConfig):
    name = "apps.data"
    label = "data"
    verbose_name = "Data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        pre_migrate.connect(_set_up_instance, sender=self, dispatch_uid="data.set_up_instance")
