"""Session limits, the first-login password change, request size limits and the log of refused requests."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from agreements import security
from agreements.models import SecurityEvent


class IdleSessionTimeoutMiddleware:
    """End a session unused for SESSION_IDLE_TIMEOUT seconds, or older than SESSION_COOKIE_AGE.

    Saving the session on a request pushes its expiry forward, so the absolute limit is enforced here from
    the login time rather than left to the cookie's age. The last-seen time is written at most once a
    minute (`touch_interval`), so most requests cost no session write.
    """

    key = "_last_seen"
    touch_interval = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            last_seen = session.get(self.key)
            started = session.get(security.SESSION_STARTED)
            if started is None:
                session[security.SESSION_STARTED] = started = now
            if (last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT) or (
                now - started > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
            elif last_seen is None or now - last_seen >= self.touch_interval:
                session[self.key] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Send a user whose password was set by the national office to the password change first.

    The flag is put in the session at login (agreements.security), so this costs no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(security.SESSION_MUST_CHANGE_PASSWORD) and request.user.is_authenticated:
            allowed = {
                reverse("agreements:password_change"),
                reverse("admin:logout"),
                reverse("admin:jsi18n"),
                reverse("set_language"),
            }
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect("agreements:password_change")
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuse (413) a request body larger than the largest upload any form accepts.

    Django limits the size of ordinary form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not of files; this puts a
    ceiling on those too, before anything reads the body. Each form still checks its own, smaller limit. A
    view that takes more (the progress report form: nine photos) says so in its `request_max_bytes`
    attribute; the URL is resolved only for a request over the general limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.AIDTRACKER_REQUEST_MAX_BYTES

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit and length > self._view_limit(request):
            return HttpResponse(_("The request is too large."), status=413, content_type="text/plain")
        return self.get_response(request)

    def _view_limit(self, request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.limit
        return getattr(match.func, "request_max_bytes", self.limit)


class SecurityLogMiddleware:
    """Record every refused (403) request in the security log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            security.record(SecurityEvent.Kind.FORBIDDEN, request)
        return response


class NulByteMiddleware:
    """Refuse (400) a request with a NUL byte in its path or its parameters.

    PostgreSQL cannot hold a NUL in text, so such a value reaching a query (a code in the path, a search term,
    a filter) would be a ValueError and a 500. Form fields already refuse NULs; this answers every other
    entry point the same way before any view runs. Multipart bodies are left to the forms (their files are
    not read here).

    A view that answers its errors as JSON (`errors_as_json = True` on it, as summary.json) gets a NUL in a
    parameter answered its way: 400 with `{"errors": {"<parameter>": ["…"]}}`, keyed by the parameter
    holding it. The URL is resolved only for a request holding a NUL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _holds_nul(request.GET):
            answer = _json_errors(request)
            if answer is not None:
                return answer
            raise BadRequest("NUL byte in the request")
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            if _holds_nul(request.POST):
                raise BadRequest("NUL byte in the request")
        return self.get_response(request)


def _json_errors(request):
    """The 400 JSON answer for a NUL in the parameters of a view that answers errors as JSON, else None."""
    if "\x00" in request.path:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if not getattr(match.func, "errors_as_json", False):
        return None
    message = _("The value holds a NUL byte, which is not allowed.")
    errors = {
        key: [message]
        for key, values in request.GET.lists()
        if "\x00" in key or any("\x00" in value for value in values)
    }
    response = JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})
    add_never_cache_headers(response)
    return response


def _holds_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())
