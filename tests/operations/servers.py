"""Real app servers for the operations tests: `make serve` processes on free ports, and a small HTTP client.

The client speaks plain http to 127.0.0.1 and says `X-Forwarded-Proto: https`, as nginx would, so the
servers run with production settings (DEBUG=0, secure cookies, CSRF's referer check).
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict=None) -> str:
    """A DATABASE_URL naming the database this test process uses (the test database)."""
    db = settings_dict or connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_environment(tmp_path, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_DIR": str(tmp_path / "logs"),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "CONN_MAX_AGE": "0",
    }
    env.update(extra)
    return env


class Server:
    """One `make serve` in its own process group (make, its shell and gunicorn are stopped together)."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        venv = Path(sys.prefix)
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"HOST=127.0.0.1:{self.port}", f"VENV={venv}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"make serve exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                status, _headers, _body = Client(self).request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"make serve did not answer /healthz:\n{self.log_path.read_text()[-3000:]}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class Client:
    """Cookies kept by hand (the servers set them Secure; this client talks http behind a pretend proxy)."""

    def __init__(self, server, cookies=None):
        self.server = server
        self.cookies = dict(cookies or {})

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        origin = f"https://127.0.0.1:{self.server.port}"
        all_headers = {
            "X-Forwarded-Proto": "https",
            "Referer": origin + path,
            "Host": f"127.0.0.1:{self.server.port}",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), content

    def get(self, path):
        return self.request("GET", path)

    def csrf_token(self, path):
        status, _headers, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()

    def post(self, path, fields, files=None, form_path=None):
        """Post a form as a browser would, with the CSRF token of the page that holds it."""
        fields = {"csrfmiddlewaretoken": self.csrf_token(form_path or path), **fields}
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content) in (files or {}).items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def login(self, username, password):
        status, headers, body = self.post(
            "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
        )
        assert status == 302, body[:2000]
        return self


def location_path(headers) -> str:
    return urlsplit(headers["Location"]).path
