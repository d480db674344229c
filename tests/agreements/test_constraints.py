"""The rules the database itself holds, whatever path the write takes."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from agreements.models import Agreement, Province
from projects.models import Category, Disbursement, FacilityOutput, FacilityType
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db


def _fails(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_it_rejects_negative_amounts():
    agreement = make_agreement("BJ-1")
    project = make_project("P-1", agreement)
    _fails(lambda: Agreement.objects.filter(pk=agreement.pk).update(pledged=-1))
    _fails(lambda: type(project).objects.filter(pk=project.pk).update(budget=-1))
    _fails(
        lambda: Disbursement.objects.create(
            project=project, date=datetime.date(2022, 1, 1), amount=-5, reference="X"
        )
    )


def test_it_rejects_an_end_before_the_start():
    agreement = make_agreement("BJ-1")
    _fails(
        lambda: make_agreement("BJ-2", starts_on=datetime.date(2022, 1, 2), ends_on=datetime.date(2022, 1, 1))
    )
    _fails(
        lambda: make_project(
            "P-2", agreement, start_date=datetime.date(2022, 5, 1), end_date=datetime.date(2022, 4, 1)
        )
    )


def test_codes_are_unique():
    agreement = make_agreement("BJ-1")
    make_project("P-1", agreement)
    _fails(lambda: make_agreement("BJ-1", province="420000", recipient="652700"))
    _fails(lambda: make_project("P-1", agreement))


def test_voucher_numbers_are_unique_per_project_and_outputs_per_type():
    agreement = make_agreement("BJ-1")
    first, second = make_project("P-1", agreement), make_project("P-2", agreement)
    Disbursement.objects.create(project=first, date=datetime.date(2022, 1, 1), amount=5, reference="PZ-1")
    Disbursement.objects.create(project=second, date=datetime.date(2022, 1, 1), amount=5, reference="PZ-1")
    _fails(
        lambda: Disbursement.objects.create(
            project=first, date=datetime.date(2022, 2, 1), amount=1, reference="PZ-1"
        )
    )
    home = FacilityType.objects.get(code="F01")
    FacilityOutput.objects.create(project=first, facility_type=home, quantity=2)
    _fails(lambda: FacilityOutput.objects.create(project=first, facility_type=home, quantity=1))


def test_an_agreement_with_projects_and_reference_data_in_use_cannot_be_deleted():
    agreement = make_agreement("BJ-1")
    make_project("P-1", agreement)
    with pytest.raises(ProtectedError):
        agreement.delete()
    with pytest.raises(ProtectedError):
        Province.objects.get(code="110000").delete()
    with pytest.raises(ProtectedError):
        Category.objects.get(code="A01").delete()
