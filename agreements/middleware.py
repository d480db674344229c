"""Session expiry on inactivity: a session unused for SESSION_IDLE_TIMEOUT seconds ends."""

import time

from django.conf import settings
from django.contrib.auth import logout


class IdleSessionTimeoutMiddleware:
    """Log a user out when their last request is older than the idle timeout."""

    key = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(self.key)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
            else:
                request.session[self.key] = now
        return self.get_response(request)
