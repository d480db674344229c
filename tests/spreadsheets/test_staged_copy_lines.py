"""A preview stages each new record ready for PostgreSQL's COPY, and its confirm sends those lines as they are
— unless something the rows depend on changed since, when the confirm reads the uploaded file again."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from projects.importers import ProjectImporter
from projects.models import Category, Project
from spreadsheets.models import ImportRecord
from spreadsheets.pg_copy import CopyLine, NewRows, copy_text
from spreadsheets.services import confirm_import, load_staged, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")

# Names COPY's text format must escape, and text that looks like its escapes.
AWKWARD_NAMES = [
    "职工书屋\t第二期",
    "一行\n两行",
    r"反斜杠\在中间",
    r"\N",
    "\\\\双反斜杠",
    "+86 电话",
    "'+已转义",
]


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


def preview(rows, user):
    book = xlsx({"项目": [PROJECT_HEADERS, *rows]})
    return preview_import(book, "p.xlsx", user, importers=[ProjectImporter], target="projects.project")


@on_postgresql
def test_new_records_are_staged_as_copy_lines_and_stored_exactly_as_the_sheet_has_them(agreement, national):
    rows = [project_row(f"P-{n}", 项目名称=name) for n, name in enumerate(AWKWARD_NAMES)]
    record = preview(rows, national)
    assert record.outcome == "previewed", record.errors
    [(cls, staged)] = load_staged(bytes(record.staged))[0]
    assert cls is ProjectImporter and all(isinstance(values, CopyLine) for _n, _key, values in staged)
    assert [key for _n, key, _values in staged] == [f"P-{n}" for n in range(len(AWKWARD_NAMES))]
    record, outcome = confirm_import(record, national)
    assert outcome.written and not outcome.revalidated
    stored = dict(Project.objects.values_list("code", "name"))
    assert stored == {f"P-{n}": name for n, name in enumerate(AWKWARD_NAMES)}
    assert Project.history.filter(history_type="+").count() == len(AWKWARD_NAMES)


COLUMNS_OF_ROWS = {
    "mixed types and escapes": [
        {"code": "A\tB", "name": None, "budget": Decimal("1.50"), "start_date": date(2022, 3, 1)},
        {"code": "C", "name": "名称", "budget": None, "start_date": datetime(2022, 3, 1, 8, 30)},
        {"code": "D", "name": True, "beneficiaries": 7, "end_date": None},
        {"code": r"E\N", "name": "", "description": "一\n二\r三\\"},
    ],
    "equal values that format apart": [
        {"code": "A", "name": "x", "budget": Decimal("1.0"), "beneficiaries": 1, "agreement_id": 1},
        {"code": "B", "name": "x", "budget": Decimal("1.00"), "beneficiaries": True, "agreement_id": 1.0},
    ],
    "one value a column, and no text to escape": [
        {
            "code": f"P-{n}",
            "name": "同名",
            "status": "planned",
            "budget": Decimal(n),
            "start_date": date(2022, 1, 1),
        }
        for n in range(3)
    ],
    "a key only some rows have": [{"code": "A"}, {"code": "B", "contact": "张三\t电话"}, {"code": "C"}],
}


@on_postgresql
@pytest.mark.parametrize("rows", COLUMNS_OF_ROWS.values(), ids=COLUMNS_OF_ROWS.keys())
def test_a_column_at_a_time_formats_every_value_as_copy_text_does(db, national, rows):
    new_rows = NewRows.for_model(Project, national)
    fields = [f.attname for f in Project._meta.concrete_fields if not f.primary_key]
    expected = [
        "\t".join(copy_text({**new_rows.defaults, **values}[name]) for name in fields) for values in rows
    ]
    assert new_rows.lines(rows) == expected


def test_a_record_added_with_the_same_code_after_the_preview_refuses_the_file(agreement, national):
    record = preview([project_row("P-0"), project_row("P-1")], national)
    assert record.outcome == "previewed"
    Project.objects.filter(pk=make_project("P-1", agreement).pk).update(name="别人先加的")
    record, outcome = confirm_import(record, national)
    assert record.outcome == "failed" and not outcome.written
    assert "P-1" in record.message and [error["row"] for error in record.errors] == [3]
    assert list(Project.objects.values_list("code", "name")) == [("P-1", "别人先加的")]


def test_a_confirm_that_cannot_trust_its_preview_reads_the_uploaded_file_again(agreement, national):
    record = preview([project_row("P-0", 项目名称="一行\n两行"), project_row("P-1")], national)
    # A category the rows do not use is renamed: the preview's stamp no longer holds, the rows are still good.
    Category.objects.filter(code="A02").update(name="改过的名称")
    record, outcome = confirm_import(record, national)
    assert outcome.written and outcome.revalidated and record.outcome == "imported"
    assert dict(Project.objects.values_list("code", "name")) == {"P-0": "一行\n两行", "P-1": "项目P-1"}
    assert Project.objects.get(code="P-0").category.code == "A01"


def test_a_confirm_that_must_read_a_file_no_longer_kept_fails_and_writes_nothing(agreement, national):
    record = preview([project_row("P-0")], national)
    ImportRecord.objects.filter(pk=record.pk).update(file=None)  # pruned (see prune_imports)
    Category.objects.filter(code="A02").update(name="改过的名称")
    with translation.override("zh-hans"):
        record, outcome = confirm_import(record, national)
    assert outcome is None and record.outcome == "failed"
    assert record.message == "上传的文件已不再保存。请重新上传文件。"
    assert not Project.objects.exists() and ImportRecord.objects.get(pk=record.pk).staged is None


@on_postgresql
@pytest.mark.parametrize("work_mem", ["1MB", "256MB"])
def test_the_insert_of_new_records_leaves_the_sessions_settings_as_they_were(agreement, national, work_mem):
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'on', true)", [work_mem])
        new_rows = NewRows.for_model(Project, national)
        new_rows.add([project_values("P-1", agreement)])
        new_rows.insert(national, "test")
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        assert cursor.fetchone() == (work_mem, "on")
    assert Project.objects.get().code == "P-1" and Project.history.get().history_type == "+"


def project_values(code, agreement):
    return {
        "code": code,
        "name": "名称",
        "agreement_id": agreement.pk,
        "category_id": Category.objects.get(code="A01").pk,
        "recipient_id": agreement.recipient_id,
        "status": "planned",
        "budget": Decimal("100.00"),
    }


def test_rows_the_database_refuses_fail_the_confirm_with_a_message_not_an_error_page(
    agreement, national, monkeypatch
):
    from django.db import DataError

    record = preview([project_row("P-0")], national)

    def refused(*args, **kwargs):
        raise DataError("extra data after last expected column")

    monkeypatch.setattr("spreadsheets.importer.SheetImporter.write", refused)
    with translation.override("zh-hans"):
        record, outcome = confirm_import(record, national)
    assert outcome is None and record.outcome == "failed"
    assert record.message == "未导入任何数据：数据库拒绝了这些行。请重新预览文件。"
    assert not Project.objects.exists()


@on_postgresql
def test_codes_json_or_copy_would_escape_are_staged_and_stored_as_written(agreement, national):
    codes = ['P-"引号"', r"P-\反斜杠", "P-\t制表", "P-\u2028分隔"]
    record = preview([project_row(code) for code in codes], national)
    assert record.outcome == "previewed", record.errors
    [(_cls, staged)] = load_staged(bytes(record.staged))[0]
    assert [key for _n, key, _values in staged] == codes
    record, outcome = confirm_import(record, national)
    assert outcome.written and sorted(Project.objects.values_list("code", flat=True)) == sorted(codes)
