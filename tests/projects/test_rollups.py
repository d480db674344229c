"""The rollup tables stay equal to the live aggregate after every kind of write (kept by database triggers)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from agreements.models import Province, RecipientUnit
from projects import rollup_sql, rollup_sql_sqlite, selectors
from projects.models import (
    Category,
    Disbursement,
    DisbursementRollup,
    FacilityOutput,
    FacilityRollup,
    FacilityType,
    Project,
    ProjectRollup,
)
from projects.rollups import rollup_differences
from projects.selectors import SummaryFilters
from tests.conftest import SAMPLES, make_agreement
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def data(db):
    return dashboard_data.build()


def snapshot():
    """Every non-zero rollup row, as comparable tuples."""
    fields = ["agreement_id", "category_id", "recipient_id", "status", "start_year"]
    return (
        sorted(
            ProjectRollup.objects.values_list(
                *fields, "projects", "budget_cents", "disbursed_cents", "beneficiaries"
            )
        ),
        sorted(
            FacilityRollup.objects.exclude(quantity=0).values_list(*fields, "facility_type_id", "quantity")
        ),
        sorted(
            DisbursementRollup.objects.exclude(amount_cents=0).values_list(*fields, "quarter", "amount_cents")
        ),
    )


def assert_rollups_exact():
    """The trigger-kept rollups (and their coarse twins) equal a rebuild from scratch, and the figures equal
    the live aggregate."""
    assert rollup_differences() == []
    kept = snapshot()
    for filters in (SummaryFilters(), SummaryFilters(status="cancelled"), SummaryFilters(start_year=2022)):
        assert selectors.summary(filters) == selectors.summary(filters, from_base=True)
        assert selectors.disbursed_by_quarter(filters) == selectors.disbursed_by_quarter(
            filters, from_base=True
        )
    call_command("rebuild_rollups", verbosity=0)
    assert snapshot() == kept


def test_creating_rows_keeps_the_rollups_exact(data):
    assert ProjectRollup.objects.exists()
    assert_rollups_exact()


def test_saving_a_project_with_new_key_fields_moves_its_figures(data):
    p1 = data["p1"]
    p1.status = "completed"
    p1.category = Category.objects.get(code="B03")
    p1.start_date = datetime.date(2023, 1, 1)
    p1.budget = Decimal("123456.78")
    p1.beneficiaries = 99
    p1.save()
    assert_rollups_exact()
    assert selectors.summary()["totals"]["completed"] == 2


def test_budget_only_changes_and_no_op_saves(data):
    data["p2"].budget = Decimal("1.01")
    data["p2"].save()
    data["p4"].save()  # nothing changed
    assert_rollups_exact()


def test_queryset_update_and_bulk_create(data):
    Project.objects.filter(agreement=data["bj1"]).update(status="planned", start_date=None)
    agreement = make_agreement("BULK", province="440300", recipient="653101")
    projects = Project.objects.bulk_create(
        [
            Project(
                code=f"BULK-{i}",
                name="x",
                agreement=agreement,
                category=Category.objects.get(code="C02"),
                recipient=agreement.recipient,
                budget=Decimal("10.05"),
                status="in_progress",
                start_date=datetime.date(2022, 1, 1),
            )
            for i in range(5)
        ]
    )
    projects = list(Project.objects.filter(code__startswith="BULK-"))
    Disbursement.objects.bulk_create(
        [
            Disbursement(project=p, date=datetime.date(2022, 2, 2), amount=Decimal("3.33"), reference="B")
            for p in projects
        ]
    )
    FacilityOutput.objects.bulk_create(
        [
            FacilityOutput(project=p, facility_type=FacilityType.objects.get(code="F09"), quantity=2)
            for p in projects
        ]
    )
    assert_rollups_exact()
    assert selectors.summary(SummaryFilters(province=Province.objects.get(code="440300")))["totals"][
        "disbursed"
    ] == Decimal("16.65")


def test_changing_and_moving_disbursements_and_outputs(data):
    payment = Disbursement.objects.get(project=data["p1"], reference="V1")
    payment.amount = Decimal("999.99")
    payment.date = datetime.date(2024, 12, 1)
    payment.save()
    Disbursement.objects.filter(project=data["p1"], reference="V2").update(
        project=data["p4"], reference="MOVED"
    )
    Disbursement.objects.filter(reference="V3").delete()
    output = FacilityOutput.objects.get(project=data["p1"], facility_type__code="F04")
    output.quantity = 7
    output.save()
    FacilityOutput.objects.filter(project=data["p3"]).update(project=data["p2"])
    FacilityOutput.objects.filter(project=data["p4"]).delete()
    assert_rollups_exact()


def test_deleting_projects_with_their_disbursements_and_outputs(data):
    data["p1"].delete()
    Project.objects.filter(code="P4").delete()
    assert_rollups_exact()
    assert selectors.summary()["totals"]["projects"] == 1
    assert not FacilityRollup.objects.filter(quantity__gt=0, facility_type__code="F04").exists()


def test_reference_changes_need_no_rollup_write(data):
    """Province, category parents and recipient paths are joined at read time."""
    bj1 = data["bj1"]
    bj1.province = Province.objects.get(code="120000")
    bj1.save()
    assert_rollups_exact()
    assert (
        selectors.summary(SummaryFilters(province=Province.objects.get(code="120000")))["totals"]["projects"]
        == 1
    )


def test_raw_sql_writes_are_kept_too(data):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_project SET budget = budget + 1 WHERE code = %s", ["P2"])
    assert_rollups_exact()


def test_rebuild_rollups_repairs_a_table_loaded_around_the_triggers(data):
    ProjectRollup.objects.all().delete()
    FacilityRollup.objects.all().delete()
    assert selectors.summary()["totals"]["projects"] == 0
    call_command("rebuild_rollups", verbosity=0)
    assert selectors.summary() == selectors.summary(from_base=True)


def test_recipient_moves_are_read_through_the_path(data):
    unit = RecipientUnit.objects.get(code="653201")
    unit.parent = RecipientUnit.objects.get(code="653100")
    unit.save()
    assert_rollups_exact()
    assert (
        selectors.summary(SummaryFilters(recipient=RecipientUnit.objects.get(code="653100")))["totals"][
            "projects"
        ]
        == 1
    )


def test_admin_delete_and_bulk_delete_action_keep_the_rollups_exact(client, national, data):
    client.force_login(national)
    response = client.post(
        f"/admin/projects/disbursement/{Disbursement.objects.get(project=data['p1'], reference='V1').pk}/delete/",
        {"post": "yes"},
    )
    assert response.status_code == 302
    assert_rollups_exact()
    ids = [data["p3"].pk]
    Disbursement.objects.filter(project=data["p3"]).delete()
    FacilityOutput.objects.filter(project=data["p3"]).delete()
    response = client.post(
        "/admin/projects/project/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert not Project.objects.filter(pk__in=ids).exists()
    assert_rollups_exact()


def test_a_spreadsheet_import_keeps_the_rollups_exact(db, national):
    call_command("import_workbook", str(SAMPLES / "workbook.xlsx"), user="national")
    assert ProjectRollup.objects.exists()
    assert_rollups_exact()


def test_check_rollups_passes_when_the_rollups_agree(data, capsys):
    call_command("check_rollups")
    assert "一致" in capsys.readouterr().out  # "the rollups agree with the base tables", in Chinese


def test_check_rollups_names_each_drifted_row_and_exits_1(data):
    from django.core.management.base import CommandError

    ProjectRollup.objects.filter(status="in_progress").update(disbursed_cents=123)
    FacilityRollup.objects.all().delete()
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("check_rollups", stdout=out)
    assert failure.value.returncode == 1
    printed = out.getvalue()
    assert "projects_projectrollup" in printed and "projects_facilityrollup" in printed
    assert "汇总表中为 (1, 10000010, 123, 10)" in printed  # P1: one project, budget and beneficiaries as kept
    call_command("rebuild_rollups", verbosity=0)
    call_command("check_rollups", stdout=io.StringIO())


def test_the_installed_triggers_are_the_ones_in_projects_rollup_sql(db):
    """Migrations install frozen copies; the database must run exactly what the runtime module says."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'projects\\_%\\_rollup\\_%'"
            )
            assert dict(cursor.fetchall()) == rollup_sql.postgresql_functions()
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE 'projects\\_%\\_rollup\\_%'"
            )
            assert dict(cursor.fetchall()) == dict.fromkeys(rollup_sql.postgresql_functions(), "O")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%rollup%'"
            )
            assert dict(cursor.fetchall()) == rollup_sql_sqlite.sqlite_triggers()
