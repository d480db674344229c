"""No lost edits under real concurrency (PostgreSQL): saves racing from the same version, each in its own
thread with its own database connection. Exactly one wins; the others are refused and write nothing."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from aidtracker.versioning import StaleVersionError
from projects.models import Project
from tests.test_lost_edits import change_url, client_for, open_form, project, staff_bj2  # noqa: F401

# serialized_rollback: the reference data (provinces, units, categories, groups) is restored after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks between real connections need PostgreSQL (CI runs these on PostgreSQL)")


def in_thread(target, *args):
    """Run `target` in a thread with its own connection; returns (thread, result list)."""
    result = []

    def run():
        try:
            result.append(target(*args))
        except Exception as error:  # the outcome is what the test looks at
            result.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def wait_until_blocked(pid, timeout=10):
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError("the second save never waited for the first one's lock")


def test_a_save_waiting_on_anothers_lock_sees_its_version_and_is_refused(project):  # noqa: F811
    pk = project.pk
    first_saved, first_may_commit, second_pid = threading.Event(), threading.Event(), []

    def first():
        with transaction.atomic():
            row = Project.objects.get(pk=pk)
            row.name = "甲的名称"
            row.save()
            first_saved.set()
            assert first_may_commit.wait(10)
        return "saved"

    def second():
        row = Project.objects.get(pk=pk)  # opened at version 1, like a form
        assert first_saved.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid.append(cursor.fetchone()[0])
        row.budget = Decimal("1.00")
        with transaction.atomic():
            row.save()  # waits on the first one's row lock, then finds version 2
        return "saved"

    t1, r1 = in_thread(first)
    t2, r2 = in_thread(second)
    deadline = time.monotonic() + 10
    while not second_pid and time.monotonic() < deadline:
        time.sleep(0.01)
    wait_until_blocked(second_pid[0])
    first_may_commit.set()
    t1.join(10)
    t2.join(10)

    assert r1 == ["saved"]
    assert isinstance(r2[0], StaleVersionError)
    stored = Project.objects.get(pk=pk)
    assert (stored.name, stored.budget, stored.version) == ("甲的名称", Decimal("100000.00"), 2)
    assert stored.history.count() == 2


def test_of_many_saves_from_the_same_version_exactly_one_wins(project):  # noqa: F811
    pk, writers = project.pk, 6
    start = threading.Barrier(writers)

    def save(n):
        row = Project.objects.get(pk=pk)
        row.contact = f"联系人 {n}"
        start.wait(10)
        with transaction.atomic():
            row.save()
        return n

    threads = [in_thread(save, n) for n in range(writers)]
    for thread, _result in threads:
        thread.join(20)
    outcomes = [result[0] for _thread, result in threads]
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, StaleVersionError) for o in outcomes if isinstance(o, Exception))
    stored = Project.objects.get(pk=pk)
    assert (stored.contact, stored.version) == (f"联系人 {winners[0]}", 2)


def test_two_people_saving_the_same_form_at_once_one_is_refused(staff_bj, staff_bj2, project):  # noqa: F811
    clients = [client_for(staff_bj), client_for(staff_bj2)]
    forms = [open_form(client, project) for client in clients]
    start = threading.Barrier(2)

    def post(client, data):
        start.wait(10)
        return client.post(change_url(project), data).status_code

    threads = [
        in_thread(post, clients[0], {**forms[0], "name": "甲的名称"}),
        in_thread(post, clients[1], {**forms[1], "budget": "20"}),
    ]
    for thread, _result in threads:
        thread.join(20)
    codes = sorted(result[0] for _thread, result in threads)
    assert codes == [200, 302]  # one saved and redirected, the other shown the refusal
    stored = Project.objects.get(pk=project.pk)
    assert stored.version == 2
    assert (stored.name == "甲的名称") != (stored.budget == Decimal("200000.00"))
