from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "apps.data"
    label = "data"
    verbose_name = "Data"
    default_auto_field = "django.db.models.BigAutoField"
