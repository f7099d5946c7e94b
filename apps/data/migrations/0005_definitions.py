import uuid

from django.db import migrations, models


def first_token(apps, schema_editor):
    apps.get_model("data", "Definitions").objects.create(id=1, token=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0004_data_type_new_key_prefix"),
    ]

    operations = [
        migrations.CreateModel(
            name="Definitions",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "definitions token",
                "db_table": "data_definitions",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(first_token, migrations.RunPython.noop),
    ]
