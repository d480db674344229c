"""Shared data and helpers for the access tests: one province's rows of every kind, for 北京, 湖北 and 上海
(the last in 喀什, the recipient persona's unit), built with the ORM."""

import datetime
from decimal import Decimal

import pytest
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.urls import NoReverseMatch, reverse

from agreements import services
from agreements.models import Agreement
from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from tests.conftest import PASSWORD, make_agreement, make_project

MODELS = {
    "agreement": Agreement,
    "project": Project,
    "disbursement": Disbursement,
    "facilityoutput": FacilityOutput,
}
APP = {
    "agreement": "agreements",
    "project": "projects",
    "disbursement": "projects",
    "facilityoutput": "projects",
}
MISSING_PK = 987654


def build_province_rows(prefix, province, recipient, project_recipient):
    agreement = make_agreement(f"{prefix}-2021-01", province=province, recipient=recipient)
    project = make_project(f"{prefix}-P-001", agreement, recipient=project_recipient)
    disbursement = Disbursement.objects.create(
        project=project, date=datetime.date(2022, 4, 1), amount=Decimal("50000.00"), reference=f"{prefix}-V1"
    )
    output = FacilityOutput.objects.create(
        project=project, facility_type=FacilityType.objects.get(code="F01"), quantity=2
    )
    return {
        "agreement": agreement,
        "project": project,
        "disbursement": disbursement,
        "facilityoutput": output,
    }


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Accounts are created per test; the production hasher would make the matrix take minutes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rows(db):
    """{"bj": {...}, "hb": {...}, "sh": {...}}: an agreement, project, disbursement and output each."""
    return {
        "bj": build_province_rows("BJ", "110000", "653200", "653201"),
        "hb": build_province_rows("HB", "420000", "652700", "652700"),
        "sh": build_province_rows("SH", "310000", "653100", "653125"),
    }


@pytest.fixture
def national_staff(db):
    """A national-office account that is not a superuser: its powers come from the group alone."""
    return services.create_staff_user(
        username="national_staff", password=PASSWORD, role=services.ROLE_NATIONAL
    )


def snapshot():
    """Every row of the four data tables and of their histories, to show that a refused request changed nothing."""
    state = {}
    for name, model in MODELS.items():
        state[name] = list(model.objects.order_by("pk").values())
        state[f"{name}_history"] = model.history.count()
    return state


def admin_url(model_name, view, *args):
    return reverse(f"admin:{APP[model_name]}_{model_name}_{view}", args=args)


def optional_admin_url(model_name, view, *args):
    try:
        return admin_url(model_name, view, *args)
    except NoReverseMatch:
        return None


def change_form_data(superuser, model_name, obj):
    """The POST data of the change form of `obj` as the admin renders it (main form and inlines)."""
    client = Client()
    client.force_login(superuser)
    response = client.get(admin_url(model_name, "change", obj.pk))
    assert response.status_code == 200
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False or isinstance(value, FieldFile) or value == "":
                if value == "":
                    data[form.add_prefix(name)] = ""
                continue
            data[form.add_prefix(name)] = "on" if value is True else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def new_object_data(model_name, parent):
    """POST data creating a new row under `parent` (a province's rows dict): naming its province or parent."""
    if model_name == "agreement":
        agreement = parent["agreement"]
        return {
            "code": "NEW-A-1",
            "title": "新协议",
            "province": agreement.province_id,
            "recipient": agreement.recipient_id,
            "status": "draft",
            "pledged": "10",
            "donor_unit": "",
            "notes": "",
        }
    if model_name == "project":
        project = parent["project"]
        return {
            "code": "NEW-P-1",
            "name": "新项目",
            "agreement": project.agreement_id,
            "category": project.category_id,
            "recipient": project.recipient_id,
            "status": "planned",
            "budget": "1",
            "beneficiaries": "0",
            "description": "",
            "contact": "",
            "disbursements-TOTAL_FORMS": "0",
            "disbursements-INITIAL_FORMS": "0",
            "outputs-TOTAL_FORMS": "0",
            "outputs-INITIAL_FORMS": "0",
        }
    if model_name == "disbursement":
        return {"project": parent["project"].pk, "date": "2023-01-02", "amount": "1", "reference": "NEW-V"}
    return {
        "project": parent["project"].pk,
        "facility_type": FacilityType.objects.get(code="F02").pk,
        "quantity": "3",
    }


NEW_CODE = {
    "agreement": {"code": "NEW-A-1"},
    "project": {"code": "NEW-P-1"},
    "disbursement": {"reference": "NEW-V"},
    "facilityoutput": {"facility_type__code": "F02"},
}
