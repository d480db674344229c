# ImportRecord moves from agreements to the spreadsheet engine, keeping its table and its rows.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('agreements', '0005_national_office_reads_security_log'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ImportRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='started at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('source', models.CharField(choices=[('admin', 'admin'), ('command', 'command line')], default='admin', max_length=10, verbose_name='source')),
                        ('target', models.CharField(max_length=100, verbose_name='imported into')),
                        ('file_name', models.CharField(max_length=255, verbose_name='file name')),
                        ('file_size', models.PositiveBigIntegerField(default=0, verbose_name='file size (bytes)')),
                        ('sha256', models.CharField(max_length=64, verbose_name='SHA-256 checksum')),
                        ('counts', models.JSONField(blank=True, default=dict, verbose_name='counts per sheet')),
                        ('outcome', models.CharField(choices=[('previewed', 'previewed'), ('dry_run', 'dry run'), ('imported', 'imported'), ('rejected', 'rejected'), ('cancelled', 'cancelled'), ('failed', 'failed')], max_length=10, verbose_name='outcome')),
                        ('message', models.TextField(blank=True, verbose_name='message')),
                        ('errors', models.JSONField(blank=True, default=list, verbose_name='errors')),
                        ('preview', models.JSONField(blank=True, default=list, verbose_name='preview rows')),
                        ('file', models.BinaryField(blank=True, null=True, verbose_name='uploaded file')),
                        ('staged', models.BinaryField(blank=True, null=True, verbose_name='normalised rows')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_records', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'verbose_name': 'spreadsheet import',
                        'verbose_name_plural': 'spreadsheet imports',
                        'ordering': ['-created_at'],
                        'db_table': 'agreements_importrecord',
                    },
                ),
            ],
        ),
    ]
