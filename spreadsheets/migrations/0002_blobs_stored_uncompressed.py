"""The record's uploaded file and staged rows are not compressed again by PostgreSQL.

An xlsx (a zip) and the staging (zlib) are compressed already, so TOAST's attempt to compress them once more,
as the record was updated, found nothing to gain and cost each preview 50–70 ms at 50,000 rows (measured). A
CSV upload still arrives compressed from the temporary table it is copied through (see
`staging.save_with_blobs`), and is kept compressed."""

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
