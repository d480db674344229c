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


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_a_history_rows_user_is_not_checked_again_by_the_database(model):
    """The application writes each history row with the request's user; the database does not look the user
    up (and lock their row) again for every history row an import writes."""
    history = model.history.model
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, history._meta.db_table)
    assert not [c for c in constraints.values() if c["foreign_key"] and c["columns"] == ["history_user_id"]]


@pytest.mark.django_db
def test_deleting_a_user_keeps_the_history_they_wrote_with_no_user(django_user_model):
    from agreements.models import Province, RecipientUnit

    clerk = django_user_model.objects.create_user("clerk-gone", password="x-password-123")
    agreement = Agreement(
        code="HX-2",
        title="协议",
        province=Province.objects.order_by("code").first(),
        recipient=RecipientUnit.objects.order_by("code").first(),
        status="signed",
    )
    agreement._history_user = clerk
    agreement.save()
    assert agreement.history.get().history_user == clerk
    clerk.delete()
    row = agreement.history.get()
    assert row.history_user_id is None and row.title == "协议"
