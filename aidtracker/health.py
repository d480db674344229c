"""`GET /healthz` for load balancers: 200 `{"database": "ok"}` when the database answers, 503 otherwise.

Answered by the first middleware, before SecurityMiddleware and CommonMiddleware: a probe sent over plain
http to the server's IP address gets its answer instead of the SSL redirect or a 400 for an unknown host. It
needs no login and reveals nothing but whether the database answers.
"""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

PATH = "/healthz"
logger = logging.getLogger("aidtracker.health")


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        # A broken connection is not reused for the next request.
        connection.close_if_unusable_or_obsolete()
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") != PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        ok = database_answers()
        response = JsonResponse({"database": "ok" if ok else "unavailable"}, status=200 if ok else 503)
        response["Cache-Control"] = "no-store"
        return response
