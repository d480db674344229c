"""A security event's page is titled in Chinese: the kind by its label and the moment in local time (never the
stored code, never UTC)."""

import datetime

import pytest
from django.urls import reverse

from agreements.models import SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, kind", [("zh-hans", "访问被拒绝"), ("zh-hant", "訪問被拒絕")])
def test_the_title_and_breadcrumb_read_as_chinese(client, national, staff_bj, language, kind):
    event = SecurityEvent.objects.create(
        kind="forbidden", user=staff_bj, username="staff_bj", method="GET", path="/admin/auth/user/"
    )
    moment = datetime.datetime(2026, 11, 30, 7, 31, 52, tzinfo=datetime.UTC)
    SecurityEvent.objects.filter(pk=event.pk).update(created=moment)
    client.force_login(national)
    url = reverse("admin:agreements_securityevent_change", args=[event.pk])
    page = client.get(url, headers={"accept-language": language}).content.decode()
    title = page.split("<title>")[1].split("</title>")[0]
    expected = f"2026年11月30日 15:31 {kind} staff_bj /admin/auth/user/"
    assert expected in title
    assert expected in page.split('class="breadcrumbs"')[1].split("</div>")[0]
    assert "forbidden" not in page and "07:31" not in page
