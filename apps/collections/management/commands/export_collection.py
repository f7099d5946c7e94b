"""manage.py export_collection NAME [-o FILE]: the collection's document, without secrets."""

from django.core.management.base import BaseCommand, CommandError

from ...models import Collection
from ...services import collection_export


class Command(BaseCommand):
    help = (
        "Export a collection to one JSON document (secrets become placeholders): to stdout, "
        "or to FILE with -o. Exporting twice gives the same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the collection's name")
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE")

    def handle(self, *args, **options):
        collection = Collection.objects.filter(name=options["name"]).first()
        if collection is None:
            known = ", ".join(Collection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no collection {options['name']!r} (collections: {known})")
        data = collection_export(collection=collection)
        if not options["output"]:
            self.stdout.write(data.decode(), ending="")
            return
        try:
            with open(options["output"], "wb") as out:
                out.write(data)
        except OSError as error:
            raise CommandError(f"cannot write {options['output']}: {error.strerror}") from None
        self.stderr.write(f"{collection} written to {options['output']} ({len(data)} bytes)")
