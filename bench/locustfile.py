"""Locust users for bench/load.py: managers reading dashboards with filters, province clerks browsing
changelists, saving projects and importing their province's 2,000-row file.

Run by bench/load.py (which builds the data and starts the servers); by hand:

    BENCH_SERVERS=http://127.0.0.1:8111,http://127.0.0.1:8112 .venv/bin/locust -f bench/locustfile.py \\
        --headless --users 50 --spawn-rate 5 --run-time 3m --host http://127.0.0.1:8111

Only 127.0.0.1: any other host is refused. Requests say `X-Forwarded-Proto: https`, as nginx would, so the
servers run with their production settings (secure cookies, CSRF's referer check).
"""

import itertools
import json
import os
import random
import re
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

OUT = Path(__file__).resolve().parent / "out"
PASSWORD = "aidtracker-demo"
PROVINCES = ["110000", "120000", "130000", "140000", "210000", "220000", "230000", "310000", "320000",
             "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000", "440000",
             "440300"]  # fmt: skip
CATEGORIES = ["A", "B", "C", "D", "Z", "A01", "A05", "B01", "B03", "C01", "C03"]
STATUSES = ["", "", "planned", "in_progress", "completed"]
YEARS = ["", "", "2019", "2020", "2021", "2022"]


def servers():
    listed = os.environ.get("BENCH_SERVERS", "").split(",")
    return [url.rstrip("/") for url in listed if url]


@events.test_start.add_listener
def only_localhost(environment, **kwargs):
    for url in [environment.host or "", *servers()]:
        if urlsplit(url).hostname != "127.0.0.1":
            raise SystemExit(f"bench/locustfile.py runs against 127.0.0.1 only, not {url!r}")


_server_cycle = itertools.cycle(servers() or [None])
_clerks = (
    iter(json.loads((OUT / "load-clerks.json").read_text())) if (OUT / "load-clerks.json").exists() else None
)


class FormFields(HTMLParser):
    """The fields a browser would post from the form with the given id (no files, no submit buttons)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self._select = self._textarea = None
        self._options = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "__prefix__" in (a.get("name") or ""):
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("file", "submit", "button", "image", "reset"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and self._options:
                chosen = [self._options[0][0]]
            self.fields += [(self._select, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append(tuple(self._textarea))
            self._textarea = None


# The servers set their cookies Secure (they believe X-Forwarded-Proto: https, as behind nginx); this client
# speaks http to them. requests copies the session's cookies into fresh jars with the default policy, so the
# policy itself is told, for this process only, to send Secure cookies over http.
DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


# Seconds between a user's requests (BENCH_WAIT="min,max"; bench/load.py --wait): reading a dashboard or a
# changelist page takes a person a few seconds.
WAIT = [float(x) for x in os.environ.get("BENCH_WAIT", "2,8").split(",")]


class SignedInUser(HttpUser):
    abstract = True
    wait_time = between(*WAIT)
    username = None

    def on_start(self):
        server = next(_server_cycle)
        if server:
            self.client.base_url = server
        origin = "https://" + urlsplit(self.client.base_url).netloc
        self.client.headers.update({"X-Forwarded-Proto": "https", "Referer": origin + "/admin/"})
        page = self.client.get("/admin/login/", name="login page")
        self.client.post(
            "/admin/login/",
            {"username": self.username, "password": PASSWORD, "next": "/admin/", **self.csrf(page.text)},
            name="login",
            allow_redirects=False,
        )

    @staticmethod
    def csrf(html):
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return {"csrfmiddlewaretoken": found.group(1)} if found else {}


class Manager(SignedInUser):
    """Reads the dashboards with filters in the URL."""

    username = "manager"

    def filters(self):
        pairs = {"status": random.choice(STATUSES), "start_year": random.choice(YEARS)}
        return "&".join(f"{k}={v}" for k, v in pairs.items() if v)

    @task(3)
    def overview(self):
        self.client.get(f"/dashboard/?{self.filters()}", name="dashboard: overview")

    @task(3)
    def province(self):
        self.client.get(
            f"/dashboard/provinces/{random.choice(PROVINCES)}/?{self.filters()}", name="dashboard: province"
        )

    @task(2)
    def category(self):
        self.client.get(
            f"/dashboard/categories/{random.choice(CATEGORIES)}/?{self.filters()}", name="dashboard: category"
        )

    @task(2)
    def summary_json(self):
        self.client.get(
            f"/dashboard/summary.json?province={random.choice(PROVINCES)}&{self.filters()}",
            name="dashboard: summary.json",
        )


class Clerk(SignedInUser):
    """A province's staff: browses changelists, saves projects, imports the province's 2,000-row file."""

    fixed_count = int(os.environ.get("BENCH_CLERKS", 19))  # one per province at 50 users

    def on_start(self):
        clerk = next(_clerks)
        self.username, self.province, self.file = clerk["username"], clerk["province"], Path(clerk["file"])
        super().on_start()
        self.project_ids = []
        self.import_file()  # the first import writes; every later one finds the rows unchanged

    @task(6)
    def browse(self):
        url = random.choice(
            [
                "/admin/projects/project/",
                "/admin/projects/project/?status__exact=in_progress",
                f"/admin/projects/project/?q={random.choice(['2021', '0', '1'])}",
                "/admin/agreements/agreement/",
                "/admin/projects/disbursement/",
            ]
        )
        response = self.client.get(url, name="changelist")
        if "/project/" in url and response.ok:
            self.project_ids = re.findall(r"/admin/projects/project/(\d+)/change/", response.text)

    @task(2)
    def save_project(self):
        if not self.project_ids:
            return self.browse()
        url = f"/admin/projects/project/{random.choice(self.project_ids)}/change/"
        page = self.client.get(url, name="change form")
        form = FormFields("project_form")
        form.feed(page.text)
        fields = [(k, v) for k, v in form.fields if k != "description"]
        fields += [("description", f"负载测试 {random.randint(1, 10**6)}"), ("_save", "1")]
        with self.client.post(url, data=fields, name="save project", catch_response=True,
                              allow_redirects=False) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"save refused: {response.status_code}")

    @task(1)
    def import_file(self):
        with self.file.open("rb") as handle:
            page = self.client.get("/admin/projects/project/import/", name="import form")
            with self.client.post(
                "/admin/projects/project/import/",
                data=self.csrf(page.text),
                files={"import_file": (self.file.name, handle)},
                name="import: preview",
                catch_response=True,
                allow_redirects=False,
            ) as response:
                if response.status_code != 302:
                    return response.failure(f"preview refused: {response.status_code}")
        preview_url = urlsplit(response.headers["Location"]).path
        preview = self.client.get(preview_url, name="import: preview page")
        if 'name="confirm"' not in preview.text:
            return
        changed = sum(int(n) for n in re.findall(r'class="count-(?:new|updated)">(\d+)<', preview.text))
        action = "confirm" if changed else "cancel"  # an unchanged file: nothing to confirm
        with self.client.post(
            preview_url, data={action: "1", **self.csrf(preview.text)}, name=f"import: {action}",
            catch_response=True, allow_redirects=False,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"{action} refused: {response.status_code}")
