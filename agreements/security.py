"""The security log: failed logins, lockouts and refused accesses, with user, time, path and object.

Events go to the database (table agreements_securityevent, shared by every app server and kept at least
six months: `manage.py prune_security_events` never deletes younger rows) and to the
`aidtracker.security` logger, so they also reach whatever collects the servers' logs.
"""

import ipaddress
import logging
from datetime import timedelta

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from agreements.models import SecurityEvent, StaffProfile

logger = logging.getLogger("aidtracker.security")

# Session keys set at login, read by the middleware without touching the database.
SESSION_STARTED = "_auth_started"
SESSION_MUST_CHANGE_PASSWORD = "_must_change_password"

MIN_RETENTION_DAYS = 183


def client_ip(request):
    """The client's address, for the login throttling (django-axes calls this) and the security log.

    With no trusted proxy (TRUSTED_PROXY_COUNT=0, the default) it is REMOTE_ADDR and X-Forwarded-For is
    ignored: anyone can write that header. Behind N trusted proxies, each appending the address it received
    the request from, the client is the N-th address from the end of X-Forwarded-For; anything before it was
    written by the client and is not believed.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote  # a proxy in the chain did not add its hop: trust nothing the header says
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def describe(obj=None, *, model=None, object_id=None) -> str:
    """`app_label.model:pk` for the object (or the model and id) a refused request named."""
    if obj is not None:
        model, object_id = type(obj), obj.pk
    if model is None:
        return ""
    return f"{model._meta.label_lower}:{object_id}" if object_id is not None else model._meta.label_lower


def record(kind, request=None, *, username="", obj=None, model=None, object_id=None):
    """Write one security event to the database and to the `aidtracker.security` logger."""
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request),
        method=(request.method or "")[:10] if request is not None else "",
        path=request.get_full_path()[:500] if request is not None else "",
        object=describe(obj, model=model, object_id=object_id)[:200],
    )
    logger.warning(
        "%s user=%s ip=%s %s %s object=%s",
        event.kind,
        event.username or "-",
        event.ip_address or "-",
        event.method,
        event.path,
        event.object or "-",
    )
    return event


def record_out_of_scope(request, model, object_id):
    """A request named an object that exists but lies outside the user's scope (answered as missing)."""
    return record(SecurityEvent.Kind.OUT_OF_SCOPE, request, model=model, object_id=object_id)


def prune(*, older_than_days: int) -> int:
    """Delete events older than `older_than_days` (never fewer than six months); returns how many."""
    days = max(older_than_days, MIN_RETENTION_DAYS)
    deleted, _ = SecurityEvent.objects.filter(created__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


@receiver(user_login_failed, dispatch_uid="aidtracker_security_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"), "") or ""
    record(SecurityEvent.Kind.LOGIN_FAILED, request, username=username)


@receiver(user_locked_out, dispatch_uid="aidtracker_security_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    record(SecurityEvent.Kind.LOCKED_OUT, request, username=username or "")


@receiver(user_logged_in, dispatch_uid="aidtracker_security_logged_in")
def _logged_in(sender, request, user, **kwargs):
    # The middleware enforces the 8-hour limit and the first-login password change from the session,
    # so an ordinary request costs no query for either.
    session = getattr(request, "session", None)
    if session is None:
        return
    session[SESSION_STARTED] = int(timezone.now().timestamp())
    must_change = StaffProfile.objects.filter(user=user, must_change_password=True).exists()
    if must_change:
        session[SESSION_MUST_CHANGE_PASSWORD] = True
    else:
        session.pop(SESSION_MUST_CHANGE_PASSWORD, None)
