"""Pairings suggest and warn, never block: an agreement outside them is saved and flagged."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from agreements.models import Agreement, Province, RecipientUnit
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db


def test_an_agreement_is_paired_with_its_unit_above_or_below():
    assert make_agreement("BJ-1", recipient="653201").is_paired()  # the paired county itself
    assert make_agreement("BJ-2", recipient="653200").is_paired()  # the prefecture above the counties
    assert make_agreement("SX-1", province="140000", recipient="BT12-222").is_paired()
    assert not make_agreement("BJ-3", recipient="653100").is_paired()  # 喀什 is Shanghai's and others'


def test_changelist_flags_and_filters_agreements_outside_the_pairings(client, national):
    make_agreement("BJ-1", recipient="653201")
    make_agreement("BJ-3", recipient="653100")
    client.force_login(national)
    url = reverse("admin:agreements_agreement_changelist")
    response = client.get(url, {"paired": "0"})
    assert [a.code for a in response.context["cl"].result_list] == ["BJ-3"]
    response = client.get(url, {"paired": "1"})
    assert [a.code for a in response.context["cl"].result_list] == ["BJ-1"]
    assert "援疆协议" in response.content.decode()


def _agreement_form(code, recipient):
    return {
        "code": code,
        "title": "协议",
        "province": Province.objects.get(code="110000").pk,
        "recipient": RecipientUnit.objects.get(code=recipient).pk,
        "status": "signed",
        "pledged": "100",
        "donor_unit": "",
        "notes": "",
    }


def test_saving_an_agreement_outside_the_pairings_warns_but_saves(client, national):
    client.force_login(national)
    response = client.post(
        reverse("admin:agreements_agreement_add"), _agreement_form("BJ-9", "653100"), follow=True
    )
    assert Agreement.objects.filter(code="BJ-9").exists()
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert any("北京市" in w and "喀什地区" in w for w in warnings), warnings


def test_saving_a_paired_agreement_gives_no_warning(client, national):
    client.force_login(national)
    response = client.post(
        reverse("admin:agreements_agreement_add"), _agreement_form("BJ-8", "653201"), follow=True
    )
    assert Agreement.objects.filter(code="BJ-8").exists()
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_a_project_benefiting_a_unit_outside_its_agreement_is_flagged():
    agreement = make_agreement("BJ-1", recipient="653200")
    assert make_project("P-1", agreement, recipient="653201").recipient_within_agreement()
    assert not make_project("P-2", agreement, recipient="653101").recipient_within_agreement()
