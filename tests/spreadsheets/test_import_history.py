"""The bulk write of new records: the records and "+" history rows are what bulk_create_with_history writes,
whether the PostgreSQL COPY path (insert_with_history) or the helpers (other databases, no user) did it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils.translation import gettext

from projects.importers import ProjectImporter
from projects.models import Project
from spreadsheets.pg_copy import insert_with_history
from spreadsheets.services import import_file
from tests.conftest import make_agreement
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

TRACKED = ["id", "code", "name", "agreement_id", "category_id", "recipient_id", "status", "budget"]
TRACKED += ["beneficiaries", "start_date", "end_date", "description", "contact"]


@pytest.mark.django_db
def test_new_records_and_their_history_rows(staff_bj):
    make_agreement("BJ-1", province="110000", recipient="653200")
    rows = [PROJECT_HEADERS] + [project_row(f"P-{i}") for i in range(3)]
    rows[1][1] = "名称\t带制表符\\和反斜杠\n第二行"
    outcome = import_file(xlsx({"项目": rows}), "p.xlsx", staff_bj, importers=[ProjectImporter])
    assert outcome.written and outcome.totals()["new"] == 3
    projects = list(Project.objects.order_by("code").values(*TRACKED))
    history = list(Project.history.order_by("code").values(*TRACKED, "history_type", "history_user_id"))
    assert [h.pop("history_type") for h in history] == ["+"] * 3
    assert {h.pop("history_user_id") for h in history} == {staff_bj.pk}
    assert history == projects
    assert projects[0]["name"] == "名称\t带制表符\\和反斜杠\n第二行"
    assert projects[0]["description"] == "" and isinstance(projects[0]["budget"], Decimal)
    assert {r for r in Project.history.values_list("history_change_reason", flat=True)} == {
        gettext("spreadsheet import")
    }


@pytest.mark.django_db
def test_the_copy_path_is_for_postgresql_with_a_user(staff_bj):
    assert insert_with_history(Project, [], None, "x") is False
    if connection.vendor != "postgresql":
        assert insert_with_history(Project, [], staff_bj, "x") is False
