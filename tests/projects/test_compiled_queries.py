"""The dashboards' queries are compiled once per process for the same inputs (aidtracker.compiled): never
their results. Whatever changes between two requests — new rows, a new agreement in a filtered province, a
unit moved in the tree — the next request shows it."""

import pytest

from agreements.models import RecipientUnit
from projects.models import Disbursement
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db


def _province(client, code="110000"):
    body = client.get(f"/dashboard/summary.json?province={code}").json()
    return next(row for row in body["by_province"] if row["code"] == code)


def test_a_new_agreement_of_a_filtered_province_counts_at_once(client, manager):
    client.force_login(manager)
    first = make_agreement("BJ-C1", province="110000")
    make_project("C1-001", first, budget="100000.00")
    assert _province(client)["projects"] == 1
    page = client.get("/dashboard/provinces/110000/").content.decode()
    assert "BJ-C1" in page
    second = make_agreement("BJ-C2", province="110000")  # the filter's agreements are now two
    project = make_project("C2-001", second, budget="50000.00")
    Disbursement.objects.create(project=project, date="2022-05-01", amount="20000.00")
    row = _province(client)
    assert (row["projects"], row["budget"], row["disbursed"]) == (2, "150000.00", "20000.00")
    page = client.get("/dashboard/provinces/110000/").content.decode()
    assert "BJ-C2" in page and "2022Q2" in page  # the agreements table and the quarter table


def test_a_unit_moved_in_the_tree_is_filtered_by_its_new_place(client, manager):
    client.force_login(manager)
    agreement = make_agreement("BJ-C3", province="110000", recipient="653200")
    make_project("C3-001", agreement, recipient="653200")
    unit = RecipientUnit.objects.get(code="653200")
    other_top = RecipientUnit.objects.exclude(pk=unit.pk).exclude(path__startswith=unit.path)
    other_top = other_top.filter(parent__isnull=False).order_by("path").first()
    before = client.get("/dashboard/summary.json?recipient=653200").json()["totals"]["projects"]
    assert before == 1
    parent_code = other_top.code
    assert client.get(f"/dashboard/summary.json?recipient={parent_code}").json()["totals"]["projects"] == 0
    unit.parent = other_top
    unit.save()
    unit.refresh_from_db()
    assert unit.path.startswith(other_top.path)  # the unit now lies below other_top
    assert client.get(f"/dashboard/summary.json?recipient={parent_code}").json()["totals"]["projects"] == 1
