from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "apps.collections"
    label = "collections"
    verbose_name = "Collections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from . import signals
        from .kinds import KINDS

        for kind in KINDS:  # a deleted element leaves the collections that held it
            post_delete.connect(
                signals.element_deleted,
                sender=kind.model._meta.concrete_model,
                dispatch_uid=f"collections.element_deleted.{kind.name}",
            )
