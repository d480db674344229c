"""The uploaded file and the staged rows are stored as they are, without PostgreSQL's compression.

Both are compressed already (an xlsx is a zip, the staging zlib), so TOAST's attempt to compress them again
found nothing to gain and cost each preview 50–70 ms at 50,000 rows (measured). A CSV upload, plain text,
now takes its full size for the day it is kept."""

from django.db import migrations

COLUMNS = ("file", "staged")


def set_storage(storage):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("spreadsheets", "ImportRecord")._meta.db_table)
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {schema_editor.quote_name(column)} SET STORAGE {storage}"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("spreadsheets", "0001_import_record_from_agreements")]

    operations = [migrations.RunPython(set_storage("EXTERNAL"), set_storage("EXTENDED"))]
