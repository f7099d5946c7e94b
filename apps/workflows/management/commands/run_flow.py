"""manage.py run_flow NS.NAME [--sync]: enqueue a flow (prints the task id) or run it here."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import Flow, Task
from ...services import flow_run
from ._common import failure, find, quiet_task_log, task_json


class Command(BaseCommand):
    help = "Run a flow: enqueue it and print the task id, or with --sync run it and print JSON."

    def add_arguments(self, parser):
        parser.add_argument("flow", help="NAMESPACE.NAME of the flow")
        parser.add_argument("--sync", action="store_true", help="run in this process")

    def handle(self, *args, **options):
        flow = find(Flow, options["flow"])
        try:
            with quiet_task_log():
                task = flow_run(flow=flow, sync=options["sync"])
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        if not options["sync"]:
            self.stdout.write(str(task.pk))
            return
        self.stdout.write(task_json(task))
        if task.status != Task.Status.COMPLETED:
            raise CommandError(failure(task))
