# ImportRecord now belongs to the spreadsheet engine (spreadsheets.ImportRecord); its table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0006_agreement_version'),
        ('spreadsheets', '0001_import_record_from_agreements'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='ImportRecord')],
        ),
    ]
