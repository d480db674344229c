"""Closed quarters: the national office closes and reopens them; everyone else adds, changes and deletes no
disbursement dated in one and no report of one, on every user path — and the guard names the quarter."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from projects import services
from projects.models import ClosedPeriod, Disbursement, ProgressReport, Project
from tests.projects import reports_data
from tests.projects.reports_data import ADD_URL, change_url, logged_in, make_payment, make_report, report_post

pytestmark = pytest.mark.django_db
national_staff = reports_data.national_staff
bj_project = reports_data.bj_project

CLOSED_DAY = datetime.date(2022, 2, 10)  # 2022 Q1
OPEN_DAY = datetime.date(2022, 4, 10)


@pytest.fixture
def closed(national_staff):
    return services.close_quarter(user=national_staff, year=2022, quarter=1)


def disbursement_post(payment, **changes):
    data = {
        "project": payment.project_id,
        "date": payment.date.isoformat(),
        "amount": "1",
        "reference": payment.reference,
        "version": payment.version,
    }
    data.update(changes)
    return data


def project_post(project, disbursements):
    data = {
        "code": project.code,
        "name": project.name,
        "agreement": project.agreement_id,
        "category": project.category_id,
        "recipient": project.recipient_id,
        "status": project.status,
        "budget": "10",
        "beneficiaries": "0",
        "start_date": project.start_date.isoformat(),
        "end_date": "",
        "description": "",
        "contact": "",
        "version": project.version,
        "disbursements-TOTAL_FORMS": str(len(disbursements)),
        "disbursements-INITIAL_FORMS": str(sum(1 for d in disbursements if d.get("id"))),
        "disbursements-MIN_NUM_FORMS": "0",
        "disbursements-MAX_NUM_FORMS": "1000",
        "outputs-TOTAL_FORMS": "0",
        "outputs-INITIAL_FORMS": "0",
        "outputs-MIN_NUM_FORMS": "0",
        "outputs-MAX_NUM_FORMS": "1000",
        "_save": "1",
    }
    for index, row in enumerate(disbursements):
        for key, value in row.items():
            data[f"disbursements-{index}-{key}"] = value
        data[f"disbursements-{index}-project"] = project.pk
    return data


def test_the_guard_names_the_quarter(staff_bj, closed):
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="2022年第1季度"):
        services.check_open_quarters(user=staff_bj, dates=[CLOSED_DAY])
    services.check_open_quarters(user=staff_bj, dates=[OPEN_DAY])


def test_the_national_office_still_writes_and_it_shows_in_the_history(national_staff, bj_project, closed):
    services.check_open_quarters(user=national_staff, dates=[CLOSED_DAY])
    client = logged_in(national_staff)
    payment = make_payment(bj_project)
    client.post(
        reverse("admin:projects_disbursement_change", args=[payment.pk]),
        disbursement_post(payment, amount="2"),
    )
    payment.refresh_from_db()
    assert payment.amount == 20000
    assert payment.history.first().history_user == national_staff


def test_change_form_refuses_old_and_new_dates_in_a_closed_quarter(staff_bj, bj_project, closed):
    client = logged_in(staff_bj)
    in_closed = make_payment(bj_project, CLOSED_DAY, "PZ-1")
    in_open = make_payment(bj_project, OPEN_DAY, "PZ-2")
    url = reverse("admin:projects_disbursement_change", args=[in_closed.pk])
    response = client.post(url, disbursement_post(in_closed, date=OPEN_DAY.isoformat()))  # moving it out
    assert response.status_code == 200 and "2022" in response.content.decode()
    url = reverse("admin:projects_disbursement_change", args=[in_open.pk])
    client.post(url, disbursement_post(in_open, date=CLOSED_DAY.isoformat()))  # moving one in
    added = client.post(
        reverse("admin:projects_disbursement_add"),
        disbursement_post(in_open, reference="PZ-3", date=CLOSED_DAY.isoformat()),
    )
    assert added.status_code == 200
    assert sorted(Disbursement.objects.values_list("reference", "date")) == [
        ("PZ-1", CLOSED_DAY),
        ("PZ-2", OPEN_DAY),
    ]


def test_project_inline_refuses_change_and_delete_of_closed_rows(staff_bj, bj_project, closed):
    payment = make_payment(bj_project)
    client = logged_in(staff_bj)
    url = reverse("admin:projects_project_change", args=[bj_project.pk])
    row = {"id": payment.pk, "date": CLOSED_DAY.isoformat(), "amount": "1", "reference": "PZ-1", "version": 1}
    unchanged = client.post(url, project_post(bj_project, [row]))
    assert unchanged.status_code == 302  # an untouched closed row does not block the project's save
    client.post(url, project_post(bj_project, [{**row, "amount": "5"}]))
    client.post(url, project_post(bj_project, [{**row, "DELETE": "on"}]))
    payment.refresh_from_db()
    assert payment.amount == 10000


def test_delete_pages_refuse_closed_rows_and_cascades(staff_bj, national_staff, bj_project, closed):
    payment = make_payment(bj_project)
    client = logged_in(staff_bj)
    client.post(reverse("admin:projects_disbursement_delete", args=[payment.pk]), {"post": "yes"})
    client.post(
        reverse("admin:projects_disbursement_changelist"),
        {"action": "delete_selected", "_selected_action": [payment.pk], "post": "yes"},
    )
    assert Disbursement.objects.filter(pk=payment.pk).exists()
    national = logged_in(national_staff)
    # The national office may, but staff may not delete a project whose cascade reaches a closed quarter.
    page = logged_in(staff_bj).get(reverse("admin:projects_project_delete", args=[bj_project.pk]))
    assert page.status_code in (200, 403)
    national.post(reverse("admin:projects_project_delete", args=[bj_project.pk]), {"post": "yes"})
    assert not Project.objects.filter(pk=bj_project.pk).exists()


def test_project_delete_cascade_is_refused_with_the_quarter_named(
    staff_bj, national_staff, bj_project, closed
):
    from django.contrib.auth.models import Permission

    staff_bj.user_permissions.add(Permission.objects.get(codename="delete_project"))
    make_payment(bj_project)
    client = logged_in(staff_bj)
    page = client.get(reverse("admin:projects_project_delete", args=[bj_project.pk]))
    assert "2022" in page.content.decode()
    client.post(reverse("admin:projects_project_delete", args=[bj_project.pk]), {"post": "yes"})
    assert Project.objects.filter(pk=bj_project.pk).exists()


def test_reports_of_a_closed_quarter_are_frozen(staff_bj, national_staff, bj_project, closed):
    client = logged_in(staff_bj)
    refused = client.post(reverse(ADD_URL), report_post(project=bj_project, year=2022, quarter=1))
    assert refused.status_code == 200
    assert not ProgressReport.objects.exists()
    draft = make_report(bj_project, staff_bj, year=2022, quarter=1)
    client.post(change_url(draft), report_post(draft, narrative="改"))
    client.post(change_url(draft), report_post(draft, action="_submit"))
    draft.refresh_from_db()
    assert (draft.narrative, draft.status) == ("进展顺利。", "draft")
    with pytest.raises(ValidationError):
        services.import_report(
            user=staff_bj, project=bj_project, year=2022, quarter=1, percent_complete=5, narrative="x"
        )
    # Moving a report out of a closed quarter is a change of it too.
    services.reopen_quarter(user=national_staff, period=closed)
    services.save_report(user=staff_bj, report=draft)


def test_reopen_is_recorded_and_lifts_the_guard(staff_bj, national_staff, closed):
    period = services.reopen_quarter(user=national_staff, period=closed)
    assert (period.reopened_by, period.reopened_at is not None) == (national_staff, True)
    services.check_open_quarters(user=staff_bj, dates=[CLOSED_DAY])
    again = services.close_quarter(user=national_staff, year=2022, quarter=1)
    assert ClosedPeriod.objects.count() == 2 and again.is_closed


def test_only_the_national_office_closes_quarters(staff_bj, manager, national_staff):
    for user in (staff_bj, manager):
        response = logged_in(user).post(
            reverse("admin:projects_closedperiod_add"), {"year": 2022, "quarter": 2}
        )
        assert response.status_code == 403
    response = logged_in(national_staff).post(
        reverse("admin:projects_closedperiod_add"), {"year": 2022, "quarter": 2}
    )
    assert response.status_code == 302
    period = ClosedPeriod.objects.get()
    assert period.closed_by == national_staff
    logged_in(national_staff).post(
        reverse("admin:projects_closedperiod_changelist"),
        {"action": "reopen_selected", "_selected_action": [period.pk]},
    )
    period.refresh_from_db()
    assert period.reopened_by == national_staff


def test_the_import_check_refuses_rows_touching_a_closed_quarter_and_names_it(
    staff_bj, national_staff, bj_project, closed
):
    from decimal import Decimal

    stored = make_payment(bj_project, CLOSED_DAY, "PZ-1")
    moved_in = make_payment(bj_project, OPEN_DAY, "PZ-2")

    def values(payment, **changes):
        row = {
            "project_id": bj_project.pk,
            "date": payment.date,
            "amount": payment.amount,
            "reference": payment.reference,
        }
        return {**row, **changes}

    rows = [
        (2, stored, values(stored)),  # identical: passes
        (3, stored, values(stored, amount=Decimal("1.00"))),
        (4, moved_in, values(moved_in, date=CLOSED_DAY)),
        (5, None, {"project_id": bj_project.pk, "date": CLOSED_DAY, "amount": Decimal(1), "reference": "N"}),
        (6, None, {"project_id": bj_project.pk, "date": OPEN_DAY, "amount": Decimal(1), "reference": "M"}),
    ]
    with translation.override("zh-hans"):
        errors = services.closed_disbursement_rows(user=staff_bj, rows=rows)
    assert [number for number, _message in errors] == [3, 4, 5]
    assert all("2022年第1季度" in message for _number, message in errors)
    assert services.closed_disbursement_rows(user=national_staff, rows=rows) == []


DISBURSEMENT_HEADERS = ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"]


def test_imports_refuse_rows_of_a_closed_quarter_naming_it(
    staff_bj, national_staff, bj_project, closed, tmp_path
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import CommandError, call_command

    from tests.spreadsheets.helpers import xlsx

    make_payment(bj_project, CLOSED_DAY, "PZ-1")
    unchanged = [bj_project.code, "2022-02-10", "1", "PZ-1"]
    data = xlsx(
        {
            "资金拨付": [
                DISBURSEMENT_HEADERS,
                unchanged,
                [bj_project.code, "2022-03-01", "2", "PZ-NEW"],
                [bj_project.code, "2022-05-01", "3", "PZ-OPEN"],
            ]
        }
    )
    path = tmp_path / "payments.xlsx"
    path.write_bytes(data)
    # A command run as a province user: exit 1, the row named with its quarter, nothing written.
    printed = io.StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError):
        call_command("import_workbook", str(path), "--user", "staff_bj", stdout=printed, stderr=printed)
    assert "2022年第1季度" in printed.getvalue()
    assert sorted(Disbursement.objects.values_list("reference", flat=True)) == ["PZ-1"]
    # The admin import: the preview lists the error, naming the quarter.
    client = logged_in(staff_bj)
    response = client.post(
        reverse("admin:projects_disbursement_import"), {"import_file": SimpleUploadedFile("p.xlsx", data)}
    )
    preview = client.get(response["Location"]).content.decode()
    assert "2022年第1季度" in preview
    # Only the unchanged and open rows: accepted.
    path.write_bytes(
        xlsx({"资金拨付": [DISBURSEMENT_HEADERS, unchanged, [bj_project.code, "2022-05-01", "3", "PZ-OPEN"]]})
    )
    call_command("import_workbook", str(path), "--user", "staff_bj", stdout=io.StringIO())
    assert sorted(Disbursement.objects.values_list("reference", flat=True)) == ["PZ-1", "PZ-OPEN"]
    # The national office may write in the closed quarter.
    path.write_bytes(data)
    call_command("import_workbook", str(path), "--user", "national_staff", stdout=io.StringIO())
    assert Disbursement.objects.filter(reference="PZ-NEW").exists()
