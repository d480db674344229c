"""Interleavings of two real PostgreSQL sessions that the rollups must survive."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from projects.rollups import rollup_differences
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL")


def interleave(first, second, pause=0.6, allowed=()):
    """Session 1 runs `first` in a transaction and holds it; session 2 runs `second` (which may block on
    it); session 1 commits after a pause; both finish."""
    started, release = threading.Event(), threading.Event()
    errors = []

    def one():
        try:
            with transaction.atomic():
                first()
                started.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            started.set()
        finally:
            connections.close_all()

    def two():
        try:
            started.wait(10)
            with transaction.atomic():
                second()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    started.wait(10)
    time.sleep(pause)
    release.set()
    for thread in threads:
        thread.join(30)
    assert all(isinstance(error, allowed) for error in errors), errors


def setup():
    agreement = make_agreement("BJ-1")
    other = make_agreement("HB-1", province="420000", recipient="652700")
    p1 = make_project("BJ-1-001", agreement)
    p2 = make_project("BJ-1-002", agreement, category="C01")
    paid = Disbursement.objects.create(
        project=p1, date=datetime.date(2022, 5, 1), amount=Decimal("123456.78"), reference="V1"
    )
    return agreement, other, p1, p2, paid


def test_moving_a_payment_to_a_project_being_cancelled():
    _a, _o, _p1, p2, paid = setup()
    interleave(
        lambda: Project.objects.filter(pk=p2.pk).update(status="cancelled"),
        lambda: Disbursement.objects.filter(pk=paid.pk).update(project=p2),
    )
    assert rollup_differences() == []


def test_an_output_while_its_project_changes_start_year():
    _a, _o, p1, _p2, _paid = setup()
    kind = FacilityType.objects.get(code="F01")
    interleave(
        lambda: Project.objects.filter(pk=p1.pk).update(start_date=datetime.date(2024, 1, 1)),
        lambda: FacilityOutput.objects.create(project=p1, facility_type=kind, quantity=3),
    )
    assert rollup_differences() == []
