"""gunicorn settings for `make serve` (and any production start: `gunicorn -c gunicorn.conf.py`).

Every value can be changed from the environment; docs/deploy.md lists them.

- Workers and threads: 2 workers x 4 threads (gthread) per server by default, sized for 2 cores: about one
  process per core, and threads to serve the requests that wait on PostgreSQL while another computes. Two such
  servers took 50 locust users with 0 errors (docs/benchmarks.md, "Load"). Raise GUNICORN_WORKERS with the
  cores.
- Timeout: the longest single request is one step of the largest import allowed (AIDTRACKER_IMPORT_MAX_ROWS,
  200,000 rows): bench/import.py measured 27.5 s preview, 33.9 s confirm and 39.0 s for the preview of a
  re-import, on an idle 2-core machine. 120 s leaves three times that for a loaded machine. nginx's
  proxy_read_timeout must be the same (docs/deploy.md).
"""

import os


def _int(name, default):
    return int(os.environ.get(name, default))


wsgi_app = "aidtracker.wsgi:application"
# `make serve` passes --bind $(HOST); this is the default for a bare `gunicorn -c gunicorn.conf.py`.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the proxy's idle upstream connections (nginx `keepalive_timeout` 60 s by default): if gunicorn
# closed an idle connection first, a request sent on it at that moment would be reset.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then, so a slow leak (or a worker bloated by a 200,000-row import) is returned.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200

# Access log on stdout (journald/systemd collects it): client as the proxy saw it, time taken in seconds.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(u)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
# The proxy's X-Forwarded-Proto is read by Django (SECURE_PROXY_SSL_HEADER), not by gunicorn.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The runtime control socket has one default path per machine, which two servers on one host would share.
control_socket_disable = True
