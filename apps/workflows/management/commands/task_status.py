"""manage.py task_status TASK_ID [--wait SECONDS]: a task's status and result as JSON."""

from django.core.management.base import BaseCommand, CommandError

from ...models import Task
from ...services import task_wait
from ._common import failure, task_json


class Command(BaseCommand):
    help = (
        "Print a task's status, result and errors as JSON (the id run_flow and run_algorithm "
        "print); --wait waits up to that many seconds for it to finish. Exits 1 when it "
        "failed or was cancelled, or is still unfinished after --wait."
    )

    def add_arguments(self, parser):
        parser.add_argument("task", type=int, help="the task's id")
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to wait for it to finish (max 3600)"
        )

    def handle(self, *args, **options):
        task = Task.objects.filter(pk=options["task"]).first()
        if task is None:
            raise CommandError(f"No task #{options['task']}.")
        wait = options["wait"]
        if not 0 <= wait <= 3600:
            raise CommandError("--wait is a number of seconds from 0 to 3600.")
        if wait:
            task = task_wait(task=task, timeout=wait)
        self.stdout.write(task_json(task))
        if task.status in {Task.Status.FAILED, Task.Status.CANCELLED}:
            raise CommandError(failure(task))
        if wait and task.status in Task.UNFINISHED:  # a script must tell this from success
            raise CommandError(f"Task #{task.pk} is still {task.status} after {wait:g} s.")
