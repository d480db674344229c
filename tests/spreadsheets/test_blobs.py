"""The uploaded file and the staged rows are kept byte for byte, whatever their bytes and size, and stored
without PostgreSQL compressing them again (both are compressed already)."""

import os

import pytest
from django.db import connection

from spreadsheets.models import ImportRecord
from spreadsheets.staging import _BinaryRows, save_with_blobs


@pytest.mark.parametrize("size", [0, 1, _BinaryRows.SLICE - 1, _BinaryRows.SLICE, 2 * _BinaryRows.SLICE + 17])
def test_blobs_of_every_byte_and_size_come_back_as_they_were_saved(db, size):
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    staged = os.urandom(size // 2)
    record = ImportRecord.objects.create(file_name="a.xlsx")
    save_with_blobs(record, file=data, staged=staged)
    again = ImportRecord.objects.get(pk=record.pk)
    assert bytes(again.file) == data and bytes(again.staged) == staged
    save_with_blobs(again, staged=None)
    assert ImportRecord.objects.get(pk=record.pk).staged is None
    assert bytes(ImportRecord.objects.get(pk=record.pk).file) == data


@pytest.mark.skipif(connection.vendor != "postgresql", reason="storage is PostgreSQL's")
def test_the_file_and_the_staging_are_not_compressed_again(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute WHERE attrelid = %s::regclass AND attname IN"
            " ('file', 'staged') ORDER BY attname",
            [ImportRecord._meta.db_table],
        )
        assert cursor.fetchall() == [("file", "e"), ("staged", "e")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="storage is PostgreSQL's")
def test_a_csv_upload_is_still_kept_compressed(db):
    text = "\n".join(
        f"PB-{i:07d},基准项目{i},BENCH-{i % 38:02d},A01,650400,实施中,12.5,{i % 500}" for i in range(20_000)
    )
    record = ImportRecord.objects.create(file_name="a.csv")
    save_with_blobs(record, file=text.encode(), staged=None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT length(file), pg_column_size(file) FROM {ImportRecord._meta.db_table} WHERE id = %s",
            [record.pk],
        )
        length, stored = cursor.fetchone()
    assert length == len(text.encode()) and stored < length / 2
