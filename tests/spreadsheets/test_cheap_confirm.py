"""A confirm writes what its preview resolved, without resolving and checking the rows again, when nothing the
rows depend on has changed since the preview — and validates everything again as soon as something has: the
closed quarters, the user's scope or rights, a record or reference table the rows name."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from agreements.models import Province
from projects.importers import DisbursementImporter, ProjectImporter
from projects.models import Category, ClosedPeriod, Disbursement, Project
from spreadsheets.importer import SheetImporter
from spreadsheets.services import confirm_import, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

PAYMENT_HEADERS = ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"]


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


@pytest.fixture
def resolves(monkeypatch):
    """How many rows each importer class resolved (parsed values to field values, with every check)."""
    counts = {}
    for cls in (ProjectImporter, DisbursementImporter):
        original = cls.resolve

        def counting(self, rows, original=original):
            counts[type(self).__name__] = counts.get(type(self).__name__, 0) + len(rows)
            return original(self, rows)

        monkeypatch.setattr(cls, "resolve", counting)
    return counts


def fresh(user):
    """The user as the next request loads them (no cached permissions or profile)."""
    return get_user_model().objects.get(pk=user.pk)


def projects_preview(user, count=3):
    book = xlsx({"项目": [PROJECT_HEADERS, *(project_row(f"P-{n}") for n in range(count))]})
    return preview_import(book, "p.xlsx", user, importers=[ProjectImporter], target="projects.project")


def test_nothing_changed_the_confirm_writes_what_the_preview_resolved_without_resolving_again(
    agreement, staff_bj, resolves
):
    record = projects_preview(staff_bj)
    assert record.outcome == "previewed" and resolves == {"ProjectImporter": 3}
    record, outcome = confirm_import(record, fresh(staff_bj))
    assert outcome.written and not outcome.revalidated
    assert resolves == {"ProjectImporter": 3}  # not one row resolved again
    project = Project.objects.get(code="P-1")
    assert (project.agreement, project.category.code, project.recipient.code) == (agreement, "A01", "653200")
    assert (project.budget, project.beneficiaries, project.start_date) == (125000, 100, date(2022, 3, 1))
    assert project.history.get().history_user == staff_bj


def test_updates_and_unchanged_rows_come_out_the_same_by_the_cheap_confirm(agreement, national):
    record, _outcome = confirm_import(projects_preview(national, 4), national)
    rows = [project_row(f"P-{n}", 项目名称="新名称" if n % 2 else f"项目P-{n}") for n in range(4)]
    book = xlsx({"项目": [PROJECT_HEADERS, *rows]})
    record = preview_import(book, "p.xlsx", national, importers=[ProjectImporter], target="projects.project")
    record, outcome = confirm_import(record, fresh(national))
    assert not outcome.revalidated
    assert record.counts["项目"]["updated"] == 2 and record.counts["项目"]["unchanged"] == 2
    assert sorted(Project.objects.filter(name="新名称").values_list("code", flat=True)) == ["P-1", "P-3"]
    assert Project.objects.get(code="P-1").version == 2 and Project.objects.get(code="P-0").version == 1


def test_a_record_changed_since_the_preview_still_refuses_the_file(agreement, national):
    confirm_import(projects_preview(national, 2), national)
    book = xlsx({"项目": [PROJECT_HEADERS, project_row("P-0", 项目名称="新名称"), project_row("P-1")]})
    record = preview_import(book, "p.xlsx", national, importers=[ProjectImporter], target="projects.project")
    stored = Project.objects.get(code="P-0")
    stored.name = "别人改的"
    stored.save()
    record, outcome = confirm_import(record, fresh(national))
    assert record.outcome == "failed" and not outcome.written
    assert "P-0" in record.message
    assert Project.objects.get(code="P-0").name == "别人改的"


def test_a_quarter_closed_since_the_preview_is_checked_again_and_refused(agreement, national, staff_bj):
    project = make_project("P-1", agreement)
    book = xlsx({"资金拨付": [PAYMENT_HEADERS, ["P-1", "2022-02-15", 1, "PZ-1"]]})
    record = preview_import(
        book, "d.xlsx", staff_bj, importers=[DisbursementImporter], target="projects.disbursement"
    )
    assert record.outcome == "previewed"
    ClosedPeriod.objects.create(year=2022, quarter=1, closed_by=national)
    record, outcome = confirm_import(record, fresh(staff_bj))
    assert outcome.revalidated and not outcome.written
    assert [error["column"] for error in record.errors] == ["拨付日期"]
    assert not Disbursement.objects.filter(project=project).exists()


def test_a_user_moved_to_another_province_since_the_preview_is_checked_again(agreement, staff_bj, resolves):
    record = projects_preview(staff_bj, 2)
    profile = staff_bj.staff_profile
    profile.province = Province.objects.get(code="420000")
    profile.save()
    record, outcome = confirm_import(record, fresh(staff_bj))
    assert outcome.revalidated and not outcome.written
    assert resolves == {"ProjectImporter": 4}
    assert {error["column"] for error in record.errors} == {"协议编号"}
    assert not Project.objects.exists()


def test_an_agreement_moved_out_of_the_users_scope_since_the_preview_is_checked_again(agreement, staff_bj):
    record = projects_preview(staff_bj, 2)
    agreement.province = Province.objects.get(code="420000")
    agreement.save()
    record, outcome = confirm_import(record, fresh(staff_bj))
    assert outcome.revalidated and not outcome.written
    assert {error["column"] for error in record.errors} == {"协议编号"}


def test_a_reference_table_changed_since_the_preview_is_checked_again(agreement, national):
    record = projects_preview(national, 2)
    Category.objects.filter(code="A01").update(code="A91")
    record, outcome = confirm_import(record, fresh(national))
    assert outcome.revalidated and not outcome.written
    assert {error["column"] for error in record.errors} == {"项目类别"}


def test_a_workbook_adding_projects_and_their_payments_is_confirmed_cheaply(agreement, national, resolves):
    book = xlsx(
        {
            "项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2")],
            "资金拨付": [
                PAYMENT_HEADERS,
                ["P-1", "2022-04-15", 1, "PZ-1"],
                ["P-2", "2022-04-16", 2.5, "PZ-2"],
            ],
        }
    )
    record = preview_import(book, "w.xlsx", national, importers=[ProjectImporter, DisbursementImporter])
    record, outcome = confirm_import(record, fresh(national))
    assert outcome.written and not outcome.revalidated
    assert resolves == {"ProjectImporter": 2, "DisbursementImporter": 2}
    assert sorted(Disbursement.objects.values_list("project__code", "amount")) == [
        ("P-1", 10000),
        ("P-2", 25000),
    ]


def test_every_sheet_declares_what_its_rows_depend_on():
    assert set(ProjectImporter.dependency_models()) >= {Category}
    assert ClosedPeriod in DisbursementImporter.dependency_models()
    assert get_user_model() not in SheetImporter.dependency_models.__func__(DisbursementImporter)
