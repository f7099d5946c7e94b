from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_migrate


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
        _watch_definitions()
        post_migrate.connect(_definitions_row, sender=self, dispatch_uid="data.definitions_row")


def _definitions_row(using="default", **kwargs) -> None:
    # A flush (TransactionTestCase, `manage.py flush`) empties the table: a new token.
    from .definitions import definitions_changed

    definitions_changed(using=using)


def _watch_definitions() -> None:
    from .definitions import definitions_changed, is_definition

    for model in filter(is_definition, apps.get_models()):
        uid = f"data.definitions.{model._meta.label_lower}"
        post_save.connect(definitions_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(definitions_changed, sender=model, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(
                definitions_changed, sender=through, dispatch_uid=f"{uid}.{field.name}"
            )
