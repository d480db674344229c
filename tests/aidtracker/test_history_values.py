"""History pages show what a person reads elsewhere in the admin: an empty link as —, never a "deleted user
(pk=None)"; a moment in local time (Asia/Shanghai) formatted like the change form, never UTC with microseconds."""

import datetime

import pytest
from django.urls import reverse

from tests.crawl import readable_text as _readable_text
from tests.projects import reports_data
from tests.projects.reports_data import make_report

pytestmark = pytest.mark.django_db


def readable_text(html):
    return " ".join(_readable_text(html).split())


bj_project = reports_data.bj_project


def test_a_review_shows_the_reviewer_and_the_local_time(client, national, staff_bj, bj_project):
    report = make_report(bj_project, staff_bj, status="draft")
    report.status = "submitted"
    report.submitted_by = staff_bj
    report.save()
    report.status = "approved"
    report.reviewed_by = national
    report.reviewed_at = datetime.datetime(2026, 11, 30, 7, 31, 51, 340983, tzinfo=datetime.UTC)
    report.save()
    client.force_login(national)
    body = readable_text(
        client.get(reverse("admin:projects_progressreport_history", args=[report.pk])).content.decode()
    )
    assert "pk=" not in body and "None" not in body
    assert "— → staff_bj" in body and "— → national" in body
    assert "2026年11月30日 15:31" in body
    assert "07:31" not in body and "340983" not in body and "+00:00" not in body


def test_a_link_to_a_deleted_row_says_so_in_chinese(client, national, staff_bj, bj_project):
    from django.contrib.auth.models import User

    clerk = User.objects.create_user("clerk_gone", is_staff=True)
    clerk_pk = clerk.pk
    report = make_report(bj_project, staff_bj, status="draft")
    report.reviewed_by = clerk
    report.save()
    report.reviewed_by = national
    report.save()
    clerk.delete()  # the history still names the row by its number
    client.force_login(national)
    body = readable_text(
        client.get(reverse("admin:projects_progressreport_history", args=[report.pk])).content.decode()
    )
    assert f"已删除的用户（编号 {clerk_pk}） → national" in body
    assert "pk=" not in body
