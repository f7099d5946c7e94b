"""manage.py run_algorithm NS.NAME [--input JSON] [--sync]."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import Algorithm, Task
from ...services import algorithm_run
from ._common import failure, find, quiet_task_log, task_json


class Command(BaseCommand):
    help = "Run an algorithm: enqueue it and print the task id, or with --sync print JSON."

    def add_arguments(self, parser):
        parser.add_argument("algorithm", help="NAMESPACE.NAME of the algorithm")
        parser.add_argument("--input", default="{}", help="the arguments, a JSON object")
        parser.add_argument("--sync", action="store_true", help="run in this process")

    def handle(self, *args, **options):
        algorithm = find(Algorithm, options["algorithm"])
        try:
            arguments = json.loads(options["input"])
        except ValueError as error:
            raise CommandError(f"--input is not JSON: {error}") from None
        if not isinstance(arguments, dict):
            raise CommandError("--input must be a JSON object of arguments")
        with quiet_task_log():
            try:
                task = algorithm_run(algorithm=algorithm, arguments=arguments, sync=options["sync"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        if not options["sync"]:
            self.stdout.write(str(task.pk))
            return
        self.stdout.write(task_json(task))
        if task.status != Task.Status.COMPLETED:
            raise CommandError(failure(task))
