import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A warm code runner for the first Try or template of this process (DESIGN §6).
from apps.runners.services import prestart  # noqa: E402 - after Django is set up

prestart()
