"""No lost edits through imports: the preview notes the version of every record it would touch; the confirm
refuses the whole file, naming the rows, when any of them changed since; the writes raise each updated
record's version by one, bulk writes included."""

import pytest
from django.db.models import F
from django.urls import reverse

from projects.models import Project
from spreadsheets.models import ImportRecord
from spreadsheets.services import confirm_import, import_file, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx


@pytest.fixture
def projects(db):
    agreement = make_agreement("BJ-1", province="110000", recipient="653200")
    return [make_project(f"P-{n}", agreement, budget="125000.00") for n in range(1, 4)]


def someone_edits(code, **values):
    Project.objects.filter(code=code).update(version=F("version") + 1, **values)


@pytest.mark.django_db
def test_an_import_raises_the_version_of_every_record_it_updates_and_only_those(projects, national):
    Project.objects.filter(code="P-3").update(version=7)
    book = xlsx(
        {
            "项目": [
                PROJECT_HEADERS,
                project_row("P-1", 项目名称="新名"),
                project_row("P-2", 项目名称="项目P-2"),
                project_row("P-3", 项目名称="另一个名"),
                project_row("P-4"),
            ]
        }
    )
    outcome = import_file(book, "p.xlsx", national)
    assert outcome.errors == [] and outcome.totals()["updated"] == 3
    versions = dict(Project.objects.values_list("code", "version"))
    assert versions == {"P-1": 2, "P-2": 2, "P-3": 8, "P-4": 1}
    # the same file again changes nothing, versions included
    assert import_file(book, "p.xlsx", national).totals()["unchanged"] == 4
    assert dict(Project.objects.values_list("code", "version")) == versions
    history = Project.history.filter(code="P-1").order_by("-history_date").first()
    assert history.version == 2


@pytest.mark.django_db
def test_a_confirm_after_someone_changed_a_row_is_refused_whole_and_names_the_rows(projects, national):
    book = xlsx(
        {
            "项目": [
                PROJECT_HEADERS,
                project_row("P-1", 项目名称="新名1"),
                project_row("P-2", 项目名称="新名2"),
                project_row("P-3"),
                project_row("P-9"),
            ]
        }
    )
    record = preview_import(book, "p.xlsx", national, target="projects.project")
    assert record.outcome == "previewed"
    someone_edits("P-2", name="同事改的名")
    someone_edits("P-3")  # unchanged by the file, but changed since the preview
    record, outcome = confirm_import(record, national)
    assert record.outcome == ImportRecord.Outcome.FAILED and not outcome.written
    assert "项目 P-2" in record.message and "项目 P-3" in record.message and "P-1" not in record.message
    assert {e["row"] for e in record.errors} == {3, 4}
    assert dict(Project.objects.values_list("code", "name")) == {
        "P-1": "项目 P-1",
        "P-2": "同事改的名",
        "P-3": "项目 P-3",
    }


@pytest.mark.django_db
def test_a_row_new_at_the_preview_but_added_by_someone_since_is_refused(projects, national):
    book = xlsx({"项目": [PROJECT_HEADERS, project_row("P-9")]})
    record = preview_import(book, "p.xlsx", national, target="projects.project")
    make_project("P-9", projects[0].agreement, budget="1.00")
    record, _outcome = confirm_import(record, national)
    assert record.outcome == "failed" and "P-9" in record.message
    assert Project.objects.get(code="P-9").budget == 1


@pytest.mark.django_db
def test_a_confirm_with_nothing_changed_since_the_preview_writes(projects, national, client):
    client.force_login(national)
    book = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", 项目名称="新名")]})
    record = preview_import(book, "p.xlsx", national, target="projects.project")
    someone_edits("P-2")  # not in the file
    record, outcome = confirm_import(record, national)
    assert record.outcome == "imported" and outcome.written
    assert Project.objects.get(code="P-1").version == 2


@pytest.mark.django_db
def test_the_import_page_says_the_preview_guards_against_a_stale_spreadsheet(client, national):
    client.force_login(national)
    page = client.get(reverse("admin:projects_project_import")).content.decode()
    assert 'id="stale-file-note"' in page
