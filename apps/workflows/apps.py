from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    label = "workflows"
    verbose_name = "Workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from apps.data.models import Record
        from apps.data.signals import records_saved

        from . import signals
        from .models import Event, Observer, Scheduler

        pre_save.connect(
            signals.remember_previous_data,
            sender=Record,
            dispatch_uid="workflows.remember_previous_data",
        )
        post_save.connect(
            signals.record_saved, sender=Record, dispatch_uid="workflows.record_saved"
        )
        records_saved.connect(signals.records_saved, dispatch_uid="workflows.records_saved")
        for model in (Event, Observer, Scheduler):
            post_save.connect(
                signals.event_saved,
                sender=model,
                dispatch_uid=f"workflows.event_saved.{model.__name__}",
            )
            post_delete.connect(
                signals.event_deleted,
                sender=model,
                dispatch_uid=f"workflows.event_deleted.{model.__name__}",
            )
