"""manage.py collection_schema [-o FILE]: print (or write) the collection document's JSON Schema."""

from django.core.management.base import BaseCommand

from ...schema import document_schema, schema_text


class Command(BaseCommand):
    help = (
        "Print the JSON Schema of collection documents, built from the element models "
        "(-o apps/collections/schema/collection.schema.json updates the repo's copy)."
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="write to this file instead of stdout")

    def handle(self, *args, **options):
        text = schema_text(document_schema())
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
        else:
            self.stdout.write(text, ending="")
