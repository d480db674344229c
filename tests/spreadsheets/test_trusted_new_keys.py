"""A confirm that trusts its preview does not look up again the codes the preview found new: the code's
unique constraint refuses a record added with one of them since, and the confirm then names that code as a
looked-up one would be named. Rows that update stored records are still looked up, locked and compared."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.importers import DisbursementImporter, ProjectImporter
from projects.models import Project
from spreadsheets.services import confirm_import, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="staged COPY lines need PostgreSQL")


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


def preview(codes, user, name=None):
    rows = [project_row(code) if name is None else project_row(code, **{"项目名称": name}) for code in codes]
    book = xlsx({"项目": [PROJECT_HEADERS, *rows]})
    return preview_import(book, "p.xlsx", user, importers=[ProjectImporter], target="projects.project")


def project_lookups(queries):
    """The queries that look projects up by many codes at once (`existing`)."""
    return [q["sql"] for q in queries if 'FROM "projects_project"' in q["sql"] and "unnest" in q["sql"]]


def test_only_a_code_key_held_unique_by_the_database_is_left_to_the_constraint():
    assert ProjectImporter.unique_key()
    assert not DisbursementImporter.unique_key()  # a project and a reference: looked up as before


def test_new_codes_are_written_without_being_looked_up_again(agreement, national):
    record = preview([f"P-{n}" for n in range(5)], national)
    with CaptureQueriesContext(connection) as queries:
        record, outcome = confirm_import(record, national)
    assert outcome.written and not outcome.revalidated, record.errors
    assert project_lookups(queries.captured_queries) == []
    assert Project.objects.filter(code__startswith="P-").count() == 5


def test_updated_rows_are_still_looked_up_and_a_change_since_the_preview_refuses_them(agreement, national):
    make_project("P-0", agreement)
    record = preview(["P-0", "P-1"], national, name="改过的名称")
    assert record.counts["项目"]["updated"] == 1 and record.counts["项目"]["new"] == 1
    Project.objects.filter(code="P-0").update(version=7)  # edited by someone else
    record, outcome = confirm_import(record, national)
    assert not outcome.written and not outcome.revalidated
    assert [error["row"] for error in record.errors] == [2] and "P-0" in record.message
    assert not Project.objects.filter(code="P-1").exists()


def test_codes_taken_since_the_preview_are_each_named_and_nothing_is_written(agreement, national):
    record = preview(["P-0", "P-1", "P-2", "P-3"], national)
    make_project("P-1", agreement)
    make_project("P-3", agreement)
    record, outcome = confirm_import(record, national)
    assert record.outcome == "failed" and not outcome.written and not outcome.revalidated
    assert sorted(error["row"] for error in record.errors) == [3, 5]
    assert "P-1" in record.message and "P-3" in record.message and "P-0" not in record.message
    assert {e["message"] for e in record.errors} == {"预览之后有人修改了这条记录，请重新预览文件。"}
    assert sorted(Project.objects.values_list("code", "name")) == [("P-1", "项目 P-1"), ("P-3", "项目 P-3")]


def test_a_code_taken_in_another_province_since_is_refused_without_saying_whose(agreement, staff_bj):
    from django.contrib.auth import get_user_model

    record = preview(["P-8", "P-9"], staff_bj)
    assert record.outcome == "previewed", record.errors
    make_project("P-9", make_agreement("HB-1", province="420000"))
    record, outcome = confirm_import(record, get_user_model().objects.get(pk=staff_bj.pk))
    assert record.outcome == "failed" and not outcome.written
    assert [(e["row"], e["message"]) for e in record.errors] == [(3, "该编号已被使用。")]
    assert not Project.objects.filter(code="P-8").exists()
