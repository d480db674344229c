"""The rollups stay exact when several people write at once (PostgreSQL, real separate sessions).

Each session is a thread with its own database connection, holding one transaction open across the steps
handed to it, so a test can interleave them: one session changes a project and has not committed, the other
pays into it and must wait. After each race: the rollups equal a rebuild from scratch, and the dashboard's
figures equal the same figures computed from the base tables.
"""

import datetime
import queue
import random
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from projects import report_coverage, selectors
from projects.models import Disbursement, FacilityOutput, FacilityType, ProgressReport, Project
from projects.rollups import rollup_differences
from projects.selectors import SummaryFilters
from tests.projects import dashboard_data
from tests.projects.test_rollups import snapshot

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

_COMMIT, _ROLLBACK = object(), object()


class _Rollback(Exception):
    pass


class Session:
    """A database session in its own thread: `run` a step in its open transaction, `start` one without
    waiting for it, then `commit`."""

    open_sessions = []

    def __init__(self):
        Session.open_sessions.append(self)
        self.jobs = queue.Queue()
        self.results = queue.Queue()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()
        self.pid = self.run(lambda: connection.connection.get_backend_pid())

    def _work(self):
        try:
            with transaction.atomic():
                connection.ensure_connection()
                while True:
                    job = self.jobs.get()
                    if job is _COMMIT:
                        break
                    if job is _ROLLBACK:
                        raise _Rollback
                    try:
                        self.results.put((True, job()))
                    except Exception as error:
                        self.results.put((False, error))
                        raise
            self.results.put((True, "committed"))
        except _Rollback:
            self.results.put((True, "rolled back"))
        except Exception as error:
            self.results.put((False, error))
        finally:
            connection.close()

    def start(self, step):
        self.jobs.put(step)

    def result(self, timeout=20):
        ok, value = self.results.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def run(self, step):
        self.start(step)
        return self.result()

    def commit(self):
        self.jobs.put(_COMMIT)
        try:
            return self.result()
        finally:
            self.thread.join(10)

    def end(self):
        """Roll back whatever is still open (after a failed test), so the flush is not left waiting."""
        if self.thread.is_alive():
            self.jobs.put(_ROLLBACK)
            self.thread.join(30)


@pytest.fixture(autouse=True)
def _end_sessions():
    yield
    while Session.open_sessions:
        Session.open_sessions.pop().end()


def wait_until_blocked(session, timeout=10):
    """Wait until `session` waits on a lock held by another session (it must, or the race is not tested)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [session.pid])
            if cursor.fetchone()[0] == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError("the second session never waited for the first")


FILTERS = [
    SummaryFilters(),
    SummaryFilters(status="cancelled"),
    SummaryFilters(status="completed"),
    SummaryFilters(start_year=2022),
]


def assert_exact():
    """Rollups = rebuild_rollups = figures from the base tables."""
    assert rollup_differences() == []
    for filters in FILTERS:
        assert selectors.summary(filters) == selectors.summary(filters, from_base=True), filters
        assert selectors.disbursed_by_quarter(filters) == selectors.disbursed_by_quarter(
            filters, from_base=True
        )
    kept = snapshot()
    call_command("rebuild_rollups", verbosity=0)
    assert snapshot() == kept


@pytest.fixture
def data(db):
    return dashboard_data.build()


def pay(project_id, amount="123456.78", ref="RACE"):
    return lambda: (
        Disbursement.objects.create(
            project_id=project_id, amount=Decimal(amount), date=datetime.date(2022, 6, 1), reference=ref
        ).pk
    )


def set_project(project_id, **values):
    return lambda: Project.objects.filter(pk=project_id).update(**values)


def race(first_step, second_step):
    """Session 1 runs its step and holds it; session 2's step must wait; 1 commits, then 2."""
    one, two = Session(), Session()
    one.run(first_step)
    two.start(second_step)
    wait_until_blocked(two)
    assert one.commit() == "committed"
    two.result()
    assert two.commit() == "committed"


def test_a_payment_waiting_on_a_cancellation_lands_under_the_cancelled_key(data):
    p1 = data["p1"]
    race(set_project(p1.pk, status="cancelled"), pay(p1.pk))
    assert_exact()
    assert selectors.summary()["totals"]["disbursed"] == Decimal("300000.01")  # P1 no longer counted


def test_a_cancellation_waiting_on_a_payment_takes_the_payment_along(data):
    p1 = data["p1"]
    race(pay(p1.pk), set_project(p1.pk, status="cancelled"))
    assert_exact()
    cancelled = selectors.summary(SummaryFilters(status="cancelled"))["totals"]["disbursed"]
    assert cancelled == Decimal("1000.00") + Decimal("35000.55") + Decimal("123456.78")


@pytest.mark.parametrize("payment_first", [False, True])
def test_moving_a_project_to_another_agreement_against_a_payment(data, payment_first):
    p1, hubei = data["p1"], data["hb"]
    move = set_project(p1.pk, agreement_id=hubei.pk, start_date=datetime.date(2024, 1, 1))
    race(*((pay(p1.pk), move) if payment_first else (move, pay(p1.pk))))
    assert_exact()
    hubei_row = next(r for r in selectors.summary()["by_province"] if r["code"] == "420000")
    assert hubei_row["disbursed"] == Decimal("100000.01") + Decimal("35000.55") + Decimal("123456.78")


@pytest.mark.parametrize("output_first", [False, True])
def test_facility_outputs_against_a_status_change(data, output_first):
    p4 = data["p4"]
    kind = FacilityType.objects.get(code="F02")
    build = lambda: FacilityOutput.objects.create(project_id=p4.pk, facility_type=kind, quantity=5).pk  # noqa: E731
    cancel = set_project(p4.pk, status="cancelled")
    race(*((build, cancel) if output_first else (cancel, build)))
    assert_exact()
    assert not [f for f in selectors.summary()["facilities"] if f["code"] in ("F01", "F02") and f["quantity"]]


@pytest.mark.parametrize("delete_first", [False, True])
def test_deleting_a_payment_against_a_status_change(data, delete_first):
    p1 = data["p1"]
    payment = Disbursement.objects.get(project=p1, reference="V1")
    delete = lambda: Disbursement.objects.filter(pk=payment.pk).delete()  # noqa: E731
    complete = set_project(p1.pk, status="completed")
    race(*((delete, complete) if delete_first else (complete, delete)))
    assert_exact()
    assert selectors.summary(SummaryFilters(status="completed"))["totals"]["disbursed"] == Decimal(
        "225000.55"
    )


def test_deleting_a_project_while_another_session_pays_into_it(data):
    """One of the two must fail (the payment would point nowhere); whichever does, nothing drifts."""
    p1 = data["p1"]
    one, two = Session(), Session()
    one.run(lambda: Project.objects.get(pk=p1.pk).delete())
    two.start(pay(p1.pk))
    wait_until_blocked(two)
    assert one.commit() == "committed"
    try:
        two.result()
        two.commit()
    except IntegrityError:
        pass
    assert not Project.objects.filter(pk=p1.pk).exists()
    assert_exact()


def test_a_payment_then_deleting_its_project(data):
    p1 = data["p1"]
    one, two = Session(), Session()
    one.run(pay(p1.pk))
    two.start(lambda: Project.objects.get(pk=p1.pk).delete())
    wait_until_blocked(two)
    assert one.commit() == "committed"
    try:
        two.result()
        two.commit()
    except IntegrityError:
        pass  # the project's delete did not see the new payment and its foreign key check refused it
    assert_exact()


STORM_SECONDS = 10


def _storm_worker(seed, projects, agreements, kinds, stop, counts):
    """Random small transactions until `stop`: status flips, agreement moves, payments added, changed and
    deleted, outputs added and deleted, projects deleted. Deadlocks and refused writes are part of the game."""
    rng = random.Random(seed)
    statuses = [s for s, _label in Project.Status.choices]
    try:
        while not stop.is_set():
            project_id = rng.choice(projects)
            kind = rng.randrange(8)
            try:
                with transaction.atomic():
                    if kind == 0:
                        Project.objects.filter(pk=project_id).update(status=rng.choice(statuses))
                    elif kind == 1:
                        Project.objects.filter(pk=project_id).update(agreement_id=rng.choice(agreements))
                    elif kind in (2, 3):
                        for _ in range(rng.randrange(1, 4)):
                            Disbursement.objects.create(
                                project_id=rng.choice(projects),
                                amount=Decimal(rng.randrange(1, 10_000_000)) / 100,
                                date=datetime.date(2021 + rng.randrange(4), rng.randrange(1, 13), 1),
                                reference=f"S{seed}-{rng.random()}",
                            )
                    elif kind == 4:
                        Disbursement.objects.filter(
                            pk__in=Disbursement.objects.filter(project_id=project_id).values("pk")[:1]
                        ).update(amount=Decimal(rng.randrange(1, 1_000_000)) / 100)
                    elif kind == 5:
                        Disbursement.objects.filter(
                            pk__in=Disbursement.objects.filter(project_id=project_id).values("pk")[:1]
                        ).delete()
                    elif kind == 6:
                        FacilityOutput.objects.update_or_create(
                            project_id=project_id,
                            facility_type_id=rng.choice(kinds),
                            defaults={"quantity": rng.randrange(1, 9)},
                        )
                    elif rng.random() < 0.1:
                        Project.objects.filter(pk=project_id).delete()
                    else:
                        Project.objects.filter(pk=project_id).update(
                            status="cancelled" if rng.random() < 0.5 else "in_progress"
                        )
                counts["committed"] += 1
            except (IntegrityError, DatabaseError):
                counts["refused"] += 1
    finally:
        connection.close()


def test_a_storm_of_random_concurrent_writes_leaves_the_rollups_exact(data):
    for i in range(4):
        dashboard_data.build(suffix=f"-{i}")
    projects = list(Project.objects.values_list("pk", flat=True))
    agreements = list(Project.objects.values_list("agreement_id", flat=True).distinct())
    kinds = list(FacilityType.objects.values_list("pk", flat=True))
    stop = threading.Event()
    counts = {"committed": 0, "refused": 0}
    workers = [
        threading.Thread(target=_storm_worker, args=(seed, projects, agreements, kinds, stop, counts))
        for seed in range(4)
    ]
    for worker in workers:
        worker.start()
    time.sleep(STORM_SECONDS)
    stop.set()
    for worker in workers:
        worker.join(30)
    assert counts["committed"] > 100, counts
    assert_exact()


def write_report(project_id, quarter=3):
    return lambda: (
        ProgressReport.objects.create(
            project_id=project_id, year=2026, quarter=quarter, status="submitted"
        ).pk
    )


@pytest.mark.parametrize("report_first", [False, True])
def test_a_progress_report_against_a_status_change(data, report_first):
    """The report coverage rollup: a report written while its project is completed (or the other way round)
    lands under the project's committed key and due window, whichever commits first."""
    p1 = data["p1"]
    complete = set_project(p1.pk, status="completed", end_date=datetime.date(2026, 9, 30))
    race(*((write_report(p1.pk), complete) if report_first else (complete, write_report(p1.pk))))
    assert_exact()
    filters = SummaryFilters(as_of=datetime.date(2026, 11, 30))
    block = report_coverage.reporting(filters)
    assert block == report_coverage.reporting(filters, from_base=True)
    beijing = next(row for row in block["provinces"] if row["code"] == "110000")
    assert (beijing["due"], beijing["submitted"], beijing["missing"]) == (1, 1, 0)
