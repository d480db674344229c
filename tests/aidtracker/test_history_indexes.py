"""History tables are indexed for how they are read — a record's rows by its id, a user's rows when the user
is deleted — not with a copy of every index of the tracked table, which each audited write would pay for."""

import pytest
from django.db import connection

from agreements.models import Agreement
from projects.models import ClosedPeriod, Disbursement, FacilityOutput, ProgressReport, Project

AUDITED = [Agreement, Project, Disbursement, FacilityOutput, ProgressReport, ClosedPeriod]


def indexed_columns(model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_a_history_table_is_indexed_by_record_and_user_only(model):
    history = model.history.model
    assert indexed_columns(history) == {("history_id",), ("id",), ("history_user_id",)}
    # The tracked table keeps its own indexes (codes, references).
    assert len(indexed_columns(model)) > 1


@pytest.mark.django_db
def test_a_records_history_reads_newest_first_by_its_id(django_user_model):
    from agreements.models import Province, RecipientUnit

    agreement = Agreement.objects.create(
        code="HX-1",
        title="协议",
        province=Province.objects.order_by("code").first(),
        recipient=RecipientUnit.objects.order_by("code").first(),
        status="signed",
    )
    agreement.title = "协议（改）"
    agreement.save()
    assert [h.title for h in agreement.history.all()] == ["协议（改）", "协议"]
