from django.apps import AppConfig


class ConnectorFactoryConfig(AppConfig):
    name = "apps.connector_factory"
    label = "connector_factory"
    verbose_name = "Connector factory"
    default_auto_field = "django.db.models.BigAutoField"
