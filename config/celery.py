"""The Celery application: the platform's distributed engine.

Workers on more machines only need the same DATABASE_URL and CELERY_BROKER_URL.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ipaas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
