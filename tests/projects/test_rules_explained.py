"""Every rule a clerk can hit is explained in Chinese, next to the field it is about; deletions the
database refuses say which records stop them and what to do; the project code's convention is shown as help."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agreements.models import Pairing, Province, RecipientUnit
from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from tests.conftest import make_agreement, make_project
from tests.forms import form_data

pytestmark = pytest.mark.django_db

END_BEFORE_START = "结束日期不能早于开始日期。"


def _field_errors(html, field):
    """The error list Django's admin renders in the row of `field`."""
    row = re.search(rf'<div class="form-row[^"]*field-{field}[^"]*">(.*?)</div>\s*</div>', html, re.S)
    assert row, f"no row for {field}"
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', row.group(1), re.S))


def _post_change_form(client, url, form_id, **changes):
    data = form_data(client.get(url).content.decode(), form_id)
    data.update(changes)
    return client.post(url, data)


def test_a_project_ending_before_it_starts_is_explained_beside_the_end_date(client, staff_bj):
    client.force_login(staff_bj)
    project = make_project("BJ-1-001", make_agreement("BJ-1"))
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = _post_change_form(client, url, "project_form", start_date="2022-05-01", end_date="2022-04-01")
    html = response.content.decode()
    assert response.status_code == 200
    assert END_BEFORE_START in _field_errors(html, "end_date")
    assert "约束" not in html and "project_ends_after_start" not in html
    project.refresh_from_db()
    assert project.end_date is None


def test_an_agreement_ending_before_it_starts_is_explained_beside_its_end(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    response = _post_change_form(client, url, "agreement_form", starts_on="2022-05-01", ends_on="2022-04-01")
    html = response.content.decode()
    assert END_BEFORE_START in _field_errors(html, "ends_on")
    assert "agreement_ends_after_start" not in html


def test_a_voucher_number_used_twice_in_a_project_is_explained_beside_it(client, staff_bj):
    client.force_login(staff_bj)
    project = make_project("BJ-1-001", make_agreement("BJ-1"))
    Disbursement.objects.create(project=project, date=datetime.date(2022, 4, 1), amount=100, reference="PZ-1")
    url = reverse("admin:projects_disbursement_add")
    data = {"project": project.pk, "date": "2022-05-01", "amount": "1", "reference": "PZ-1"}
    html = client.post(url, data).content.decode()
    assert "该项目已有相同凭证号的拨付记录。" in _field_errors(html, "reference")
    assert Disbursement.objects.count() == 1


def test_a_second_output_of_the_same_type_is_explained_beside_the_type(client, staff_bj):
    client.force_login(staff_bj)
    project = make_project("BJ-1-001", make_agreement("BJ-1"))
    kind = FacilityType.objects.get(code="F01")
    FacilityOutput.objects.create(project=project, facility_type=kind, quantity=1)
    url = reverse("admin:projects_facilityoutput_add")
    html = client.post(
        url, {"project": project.pk, "facility_type": kind.pk, "quantity": "2"}
    ).content.decode()
    assert "该项目已有此类型的建设成果，请修改其数量。" in _field_errors(html, "facility_type")


def test_pairing_rules_are_explained_beside_their_fields(client, national):
    client.force_login(national)
    province, unit = Province.objects.get(code="110000"), RecipientUnit.objects.get(code="653100")
    Pairing.objects.create(province=province, recipient=unit)
    url = reverse("admin:agreements_pairing_add")
    html = client.post(url, {"province": province.pk, "recipient": unit.pk}).content.decode()
    assert "该援助省市与该受援单位已有结对关系。" in _field_errors(html, "recipient")
    html = client.post(
        url,
        {
            "province": province.pk,
            "recipient": RecipientUnit.objects.get(code="653200").pk,
            "valid_from": "2022-01-01",
            "valid_to": "2021-01-01",
        },
    ).content.decode()
    assert "“有效期止”不能早于“有效期起”。" in _field_errors(html, "valid_to")


def test_deleting_an_agreement_with_projects_names_them_and_says_what_to_do(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    make_project("BJ-1-001", agreement)
    response = client.get(reverse("admin:agreements_agreement_delete", args=[agreement.pk]))
    html = response.content.decode()
    assert "BJ-1-001" in html  # the record that stops the deletion
    assert 'id="protected-help"' in html
    assert "请先删除这些记录" in html
    assert "标记为已终止" in html


def test_bulk_deleting_agreements_with_projects_says_what_to_do(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    make_project("BJ-1-001", agreement)
    url = reverse("admin:agreements_agreement_changelist")
    html = client.post(
        url, {"action": "delete_selected", "_selected_action": [agreement.pk]}
    ).content.decode()
    assert "BJ-1-001" in html and 'id="protected-help"' in html


def test_the_project_code_convention_is_shown_as_help_and_not_enforced(client, staff_bj):
    client.force_login(staff_bj)
    html = client.get(reverse("admin:projects_project_add")).content.decode()
    assert "BJ-2021-01-001" in html and "惯例" in html
    html = client.get(reverse("admin:projects_project_import")).content.decode()
    assert "项目编号：" in html and "BJ-2021-01-001" in html and "惯例" in html
    template = load_workbook(io.BytesIO(client.get(reverse("admin:projects_project_template")).content))
    notes = " ".join(str(cell.value) for row in template["说明"].iter_rows() for cell in row if cell.value)
    assert "项目编号：" in notes and "惯例" in notes
    # Any unused code is accepted.
    project = make_project("自定义编号", make_agreement("BJ-1"))
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = _post_change_form(client, url, "project_form", code="随便-1")
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).code == "随便-1"
