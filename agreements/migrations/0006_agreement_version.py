"""A `version` on aid agreements: raised by 1 on every save, so a save based on an older one can be refused.

On SQLite the column is added in place (ALTER TABLE … ADD COLUMN with a default) instead of Django's table
rebuild, which would drop and recreate the table under the rollup triggers that name it.
"""

from django.db import migrations, models

TABLES = ["agreement", "historicalagreement"]
SQLITE_COLUMN = '"version" integer unsigned NOT NULL DEFAULT 1 CHECK ("version" >= 0)'


def add_versions(apps, schema_editor):
    for name in TABLES:
        model = apps.get_model("agreements", name)
        if schema_editor.connection.vendor == "sqlite":
            table = schema_editor.quote_name(model._meta.db_table)
            schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {SQLITE_COLUMN}")
        else:
            schema_editor.add_field(model, model._meta.get_field("version"))


def remove_versions(apps, schema_editor):
    for name in TABLES:
        model = apps.get_model("agreements", name)
        if schema_editor.connection.vendor == "sqlite":
            table = schema_editor.quote_name(model._meta.db_table)
            schema_editor.execute(f'ALTER TABLE {table} DROP COLUMN "version"')
        else:
            schema_editor.remove_field(model, model._meta.get_field("version"))


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0005_national_office_reads_security_log"),
    ]

    operations = [
        # The field enters the state first, so that the database step below finds it on the models.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="agreement",
                    name="version",
                    field=models.PositiveIntegerField(default=1),
                ),
                migrations.AddField(
                    model_name="historicalagreement",
                    name="version",
                    field=models.PositiveIntegerField(default=1),
                ),
            ],
        ),
        migrations.RunPython(add_versions, remove_versions),
    ]
