"""Two reviewers deciding on the same report at the same moment, on separate PostgreSQL connections: the
row lock and the version let exactly one of them through; the other is told the report changed."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from projects import services
from projects.models import ProgressReport
from tests.projects import reports_data
from tests.projects.reports_data import make_report

national_staff = reports_data.national_staff
reviewer2 = reports_data.reviewer2
bj_project = reports_data.bj_project


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_simultaneous_decisions_exactly_one_is_written(
    is_postgres, staff_bj, national_staff, reviewer2, bj_project
):
    if not is_postgres:
        pytest.skip("row locks between separate connections need PostgreSQL (CI runs it)")
    report = make_report(bj_project, staff_bj, status="submitted")
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(name, service, user, **extra):
        try:
            barrier.wait(timeout=10)
            service(user=user, report=ProgressReport.objects.get(pk=report.pk), expected_version=1, **extra)
            outcomes[name] = "written"
        except ValidationError as error:
            outcomes[name] = error.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("approve", services.approve_report, national_staff)),
        threading.Thread(
            target=decide, args=("return", services.return_report, reviewer2), kwargs={"note": "请补充"}
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["stale_version", "written"]
    report.refresh_from_db()
    assert report.version == 2
    assert report.status == ("approved" if outcomes["approve"] == "written" else "returned")
    assert report.history.count() == 2
