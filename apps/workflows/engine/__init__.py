"""The engine: what happens when events fire and tasks run.

* conditions — Cenit's trigger operators over a record and its previous state
* dispatcher — record writes → observers → one task per flow lot
* schedules — scheduler expressions ↔ django-celery-beat periodic tasks
* runner — a task's life: lock, attempts, retries, notifications
* flows — running a flow by its translator's type
* algorithms, translators — compiled user code and translations, cached
"""
