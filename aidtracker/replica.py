"""Dashboard reads from a read replica, when one is configured and fresh enough.

With DATABASE_REPLICA_URL set, the alias "replica" exists. A view asks `read_source(request)` where to read
and passes the alias to the selectors (`using=`); a router alone could not decide, having no request:

- a user who wrote in the last minute reads the primary (so they see what they just saved);
- the replica is used only while its lag, `now() - pg_last_xact_replay_timestamp()`, is under
  DATABASE_REPLICA_MAX_LAG seconds (default 5); unreachable or late, the primary answers;
- writes, and everything in the admin, always go to the primary: the router sends every write there and
  routes a read elsewhere only inside `reading_from()`, which only the dashboard selectors enter.

Pages show the time their data is as of: the primary's now, or the replica's last replayed transaction.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

REPLICA = "replica"
RECENT_WRITE_SECONDS = 60
SESSION_LAST_WRITE = "_last_write"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")

_reading_from: ContextVar[str | None] = ContextVar("aidtracker_reading_from", default=None)


class ReplicaRouter:
    """Reads go where `reading_from()` says (else Django's default choice); writes always to the primary."""

    def db_for_read(self, model, **hints):
        return _reading_from.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


_read_memo: ContextVar[dict | None] = ContextVar("aidtracker_read_memo", default=None)


@contextmanager
def reading_from(alias: str | None):
    token = _reading_from.set(None if alias in (None, DEFAULT_DB_ALIAS) else alias)
    memo = _read_memo.set({})
    try:
        yield
    finally:
        _read_memo.reset(memo)
        _reading_from.reset(token)


def read_memo() -> dict | None:
    """A dict living as long as the current `reading_from()` block — one selector call from a view, which
    writes nothing meanwhile — for reference reads its parts would otherwise repeat; None outside one."""
    return _read_memo.get()


def memoized(key, compute):
    """compute(), once per `reading_from()` block (read_memo) under `key`: for the reference reads (the
    provinces, the categories, which agreement is whose) that several selectors of one page would repeat.
    Outside a block, computed each time."""
    memo = _read_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def reads(selector):
    """Give a selector the keyword `using=`: the database alias every read inside it goes to."""

    @wraps(selector)
    def wrapper(*args, using=None, **kwargs):
        if using is None:  # called from another selector: keep its choice
            return selector(*args, **kwargs)
        with reading_from(using):
            return selector(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class ReadSource:
    alias: str
    as_of: datetime


def replica_configured() -> bool:
    return bool(settings.DATABASE_REPLICA_URL) and REPLICA in connections.settings


def wrote_recently(request) -> bool:
    session = getattr(request, "session", None)
    last = session.get(SESSION_LAST_WRITE) if session is not None else None
    return last is not None and time.time() - last < RECENT_WRITE_SECONDS


def replica_as_of() -> datetime | None:
    """The time the replica's data is as of (its last replayed transaction; now, if it is not a standby),
    or None when it does not answer."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT now(), pg_is_in_recovery(), pg_last_xact_replay_timestamp()")
            now, in_recovery, replayed = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA].close_if_unusable_or_obsolete()
        return None
    return replayed if in_recovery and replayed is not None else now


def read_source(request) -> ReadSource:
    """Where this request's dashboard reads go, and the time that data is as of."""
    if replica_configured() and not wrote_recently(request):
        as_of = replica_as_of()
        if as_of is not None and (timezone.now() - as_of).total_seconds() < settings.DATABASE_REPLICA_MAX_LAG:
            return ReadSource(REPLICA, as_of)
    return ReadSource(DEFAULT_DB_ALIAS, timezone.now())


class RecentWriteMiddleware:
    """Note in the session when a signed-in user's request changed something (any non-safe method that did
    not fail), so their next minute of dashboards reads the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Asked before the view runs: a login is not a write.
        signed_in = request.method not in SAFE_METHODS and request.user.is_authenticated
        response = self.get_response(request)
        if signed_in and response.status_code < 400 and replica_configured() and hasattr(request, "session"):
            request.session[SESSION_LAST_WRITE] = int(time.time())
        return response
