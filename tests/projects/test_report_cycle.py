"""The reporting cycle through the admin, with real non-superuser accounts: drafts, submit, approve,
return with a note, reopen, read-only states, nobody deciding on their own report, bulk review."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from projects import services
from projects.models import ProgressReport
from tests.projects import reports_data
from tests.projects.reports_data import (
    ADD_URL,
    CHANGELIST_URL,
    change_url,
    logged_in,
    make_report,
    png,
    report_post,
)

pytestmark = pytest.mark.django_db
national_staff = reports_data.national_staff
reviewer2 = reports_data.reviewer2
bj_project = reports_data.bj_project
hb_project = reports_data.hb_project


def test_province_staff_writes_a_draft_with_a_photo_and_submits_it(staff_bj, bj_project):
    client = logged_in(staff_bj)
    response = client.post(
        reverse(ADD_URL), report_post(project=bj_project, photos=[png()], action="_submit")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    report = ProgressReport.objects.get()
    assert (report.status, report.author, report.submitted_by) == ("submitted", staff_bj, staff_bj)
    assert report.photos.count() == 1
    assert report.history.count() >= 2


def test_a_submitted_report_is_read_only_for_its_author(staff_bj, bj_project):
    report = make_report(bj_project, staff_bj, status="submitted")
    client = logged_in(staff_bj)
    page = client.get(change_url(report))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    client.post(change_url(report), report_post(report, narrative="改了"))
    report.refresh_from_db()
    assert report.narrative == "进展顺利。"


def test_reviewer_returns_with_a_note_and_the_author_sees_it(staff_bj, national_staff, bj_project):
    report = make_report(bj_project, staff_bj, status="submitted")
    reviewer = logged_in(national_staff)
    refused = reviewer.post(change_url(report), report_post(report, action="_return"))
    assert refused.status_code == 200
    report.refresh_from_db()
    assert report.status == "submitted"
    reviewer.post(change_url(report), report_post(report, action="_return", review_note="请补充照片。"))
    report.refresh_from_db()
    assert (report.status, report.review_note, report.reviewed_by) == (
        "returned",
        "请补充照片。",
        national_staff,
    )
    page = logged_in(staff_bj).get(change_url(report)).content.decode()
    assert "请补充照片。" in page and 'name="_submit"' in page


def test_nobody_approves_or_returns_a_report_they_wrote(national_staff, reviewer2, bj_project):
    report = make_report(bj_project, national_staff, status="submitted")
    client = logged_in(national_staff)
    page = client.get(change_url(report)).content.decode()
    assert 'name="_approve"' not in page
    client.post(change_url(report), report_post(report, action="_approve"))
    report.refresh_from_db()
    assert report.status == "submitted"
    with pytest.raises(ValidationError) as refused:
        services.approve_report(user=national_staff, report=report)
    assert refused.value.code == "own_report"
    # Nor one they submitted for someone else.
    other = make_report(bj_project, reviewer2, status="draft", quarter=2)
    services.submit_report(user=national_staff, report=other)
    with pytest.raises(ValidationError) as refused:
        services.return_report(user=national_staff, report=other, note="x")
    assert refused.value.code == "own_report"
    services.approve_report(user=reviewer2, report=report)
    report.refresh_from_db()
    assert report.status == "approved"


def test_approved_is_read_only_for_everyone_until_a_reviewer_reopens(staff_bj, national_staff, bj_project):
    report = make_report(bj_project, staff_bj, status="approved")
    assert not services.content_editable(user=staff_bj, report=report)
    assert not services.content_editable(user=national_staff, report=report)
    client = logged_in(national_staff)
    client.post(change_url(report), report_post(report, action="_return", review_note="数据有误，重新打开。"))
    report.refresh_from_db()
    assert report.status == "returned"
    assert services.content_editable(user=staff_bj, report=report)


def test_managers_only_read(manager, staff_bj, bj_project):
    report = make_report(bj_project, staff_bj, status="submitted")
    client = logged_in(manager)
    page = client.get(change_url(report)).content.decode()
    assert 'name="_approve"' not in page and 'name="_save"' not in page
    response = client.post(change_url(report), report_post(report, action="_approve"))
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_stale_form_is_refused(staff_bj, bj_project):
    report = make_report(bj_project, staff_bj)
    client = logged_in(staff_bj)
    data = report_post(report, narrative="第一次")
    ProgressReport.objects.filter(pk=report.pk).update(narrative="同事改过")
    services.save_report(user=staff_bj, report=ProgressReport.objects.get(pk=report.pk))  # a colleague's save
    response = client.post(change_url(report), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="version-conflicts"' in page and "第一次" in page  # the other's change listed, the input kept
    report.refresh_from_db()
    assert report.narrative == "同事改过"


def test_review_queue_and_bulk_return_with_one_note(
    staff_bj, national_staff, bj_project, hb_project, staff_hb
):
    first = make_report(bj_project, staff_bj, status="submitted")
    second = make_report(hb_project, staff_hb, status="submitted")
    make_report(bj_project, staff_bj, status="draft", quarter=2)
    client = logged_in(national_staff)
    queue = client.get(reverse(CHANGELIST_URL), {"status": "submitted"})
    assert queue.context["cl"].result_count == 2
    ids = [str(first.pk), str(second.pk)]
    page = client.post(reverse(CHANGELIST_URL), {"action": "return_selected", "_selected_action": ids})
    assert page.status_code == 200
    assert f'name="_version_{first.pk}" value="{first.version}"' in page.content.decode()
    missing_note = client.post(
        reverse(CHANGELIST_URL),
        {"action": "return_selected", "_selected_action": ids, "post": "yes", "review_note": ""},
    )
    assert missing_note.status_code == 200
    # The second report changed after the page was shown: nothing is done, the page shows the rows again.
    ProgressReport.objects.filter(pk=second.pk).update(version=second.version + 1)
    stale = {
        "action": "return_selected",
        "_selected_action": ids,
        "post": "yes",
        "review_note": "请补充。",
        f"_version_{first.pk}": first.version,
        f"_version_{second.pk}": second.version,
    }
    shown_again = client.post(reverse(CHANGELIST_URL), stale)
    assert shown_again.status_code == 200
    assert f'name="_version_{second.pk}" value="{second.version + 1}"' in shown_again.content.decode()
    assert set(ProgressReport.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"submitted"}
    client.post(reverse(CHANGELIST_URL), {**stale, f"_version_{second.pk}": second.version + 1})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.review_note) == ("returned", "请补充。")
    assert (second.status, second.review_note) == ("returned", "请补充。")


def test_bulk_approve_skips_reports_the_reviewer_wrote(national_staff, staff_bj, bj_project):
    own = make_report(bj_project, national_staff, status="submitted")
    theirs = make_report(bj_project, staff_bj, status="submitted", quarter=2)
    client = logged_in(national_staff)
    client.post(
        reverse(CHANGELIST_URL),
        {
            "action": "approve_selected",
            "_selected_action": [own.pk, theirs.pk],
            "post": "yes",
            f"_version_{own.pk}": own.version,
            f"_version_{theirs.pk}": theirs.version,
        },
    )
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert (own.status, theirs.status) == ("submitted", "approved")


def test_province_staff_cannot_review(staff_bj, bj_project, staff_hb):
    report = make_report(bj_project, staff_hb, status="submitted")
    client = logged_in(staff_bj)
    client.post(change_url(report), report_post(report, action="_approve"))
    report.refresh_from_db()
    assert report.status == "submitted"
    response = client.post(
        reverse(CHANGELIST_URL),
        {"action": "approve_selected", "_selected_action": [report.pk], "post": "yes"},
    )
    report.refresh_from_db()
    assert report.status == "submitted"
    assert response.status_code in (200, 302)


def test_review_queue_filters_by_province_and_period(
    national_staff, staff_bj, staff_hb, bj_project, hb_project
):
    make_report(bj_project, staff_bj, status="submitted", year=2026, quarter=3)
    make_report(bj_project, staff_bj, status="submitted", year=2026, quarter=2)
    make_report(hb_project, staff_hb, status="submitted", year=2026, quarter=3)
    client = logged_in(national_staff)
    queue = client.get(
        reverse(CHANGELIST_URL), {"status": "submitted", "province": "110000", "year": "2026", "quarter": "3"}
    )
    rows = list(queue.context["cl"].result_list)
    assert [(r.project.code, r.quarter) for r in rows] == [("BJ-2021-01-001", 3)]
    page = client.get(reverse(CHANGELIST_URL), {"status": "submitted"}).content.decode()
    assert "已提交" in page


def test_a_reviewer_returns_a_report_that_has_photos(
    staff_bj, national_staff, bj_project, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    author = logged_in(staff_bj)
    author.post(reverse(ADD_URL), report_post(project=bj_project, photos=[png()], action="_submit"))
    report = ProgressReport.objects.get()
    photo = report.photos.get()
    data = report_post(report, action="_return", review_note="照片不清楚")
    data.update({"photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "1", "photos-0-id": photo.pk})
    data["photos-0-report"] = report.pk
    response = logged_in(national_staff).post(change_url(report), data)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "returned" and report.photos.count() == 1


def test_one_report_per_project_and_quarter_told_beside_the_field(staff_bj, bj_project):
    make_report(bj_project, staff_bj, year=2026, quarter=3)
    response = logged_in(staff_bj).post(
        reverse(ADD_URL), report_post(project=bj_project, year=2026, quarter=3)
    )
    assert response.status_code == 200
    assert "quarter" in response.context["adminform"].form.errors
    assert ProgressReport.objects.count() == 1


def test_drafts_are_deleted_by_their_authors_submitted_reports_are_not(staff_bj, bj_project):
    draft = make_report(bj_project, staff_bj, quarter=2)
    submitted = make_report(bj_project, staff_bj, status="submitted", quarter=3)
    client = logged_in(staff_bj)
    assert client.get(reverse("admin:projects_progressreport_delete", args=[submitted.pk])).status_code == 403
    client.post(
        reverse(CHANGELIST_URL),
        {"action": "delete_selected", "_selected_action": [draft.pk, submitted.pk], "post": "yes"},
    )
    assert set(ProgressReport.objects.values_list("pk", flat=True)) == {draft.pk, submitted.pk}
    client.post(reverse("admin:projects_progressreport_delete", args=[draft.pk]), {"post": "yes"})
    assert list(ProgressReport.objects.values_list("pk", flat=True)) == [submitted.pk]
