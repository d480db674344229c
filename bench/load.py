"""Load test: the demo data x N on PostgreSQL, two `make serve` servers, 50 locust users for 3 minutes.

    .venv/bin/python bench/load.py --scale 20 [--users 50] [--time 3m] [--wait 2,8] [--ports 8111,8112]
    .venv/bin/python bench/load.py --scale 20 --build-only      # only (re)build the database and files
    .venv/bin/python bench/load.py --check-only                 # only the totals and rollup checks

Steps (each printed):

1. build: (re)creates the database BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
   aidtracker_load), migrates, loads the demo, copies its agreements, projects, disbursements and facility
   outputs N-1 times (codes suffixed -X02 … -XNN, INSERT … SELECT, so the rollup triggers keep up), adds one
   clerk per province (clerk_bj, … password aidtracker-demo) and writes, per province, the same 2,000-row
   projects file for that province (bench/out/import-<province>.xlsx) and the expected totals afterwards:
   the scaled demo plus each file's 2,000 projects (bench/out/load-expected.json);
2. serve: two `make serve` on 127.0.0.1 (DEBUG=0, the repository's gunicorn config);
3. load: `locust -f bench/locustfile.py --headless` for the given time, statistics in bench/out/load_*.csv;
4. check: the totals from the base tables equal the expected ones, the rollups equal a recomputation from
   the base tables (`check_rollups` when the project has it; else the selectors' live path against the
   rollup path, per province and per category).

Only 127.0.0.1: the locust file refuses any other host. Never part of the test run's pass/fail.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidtracker_load"
IMPORT_ROWS = 2000
PASSWORD = "aidtracker-demo"


def setup_django(url, debug="1"):
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = debug
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtracker.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(url):
    from urllib.parse import urlparse

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True)


def columns(model, skip=()):
    return [f.column for f in model._meta.concrete_fields if not f.primary_key and f.column not in skip]


def scale_copies(scale):
    """Copy the demo's rows scale-1 times in SQL; the statement-level rollup triggers update the rollups."""
    from django.db import connection

    from agreements.models import Agreement
    from projects.models import Disbursement, FacilityOutput, Project

    a_cols = columns(Agreement)
    p_cols = columns(Project)
    d_cols = columns(Disbursement)
    f_cols = columns(FacilityOutput)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM agreements_agreement")
        last_agreement = cursor.fetchone()[0]
        cursor.execute("SELECT max(id) FROM projects_project")
        last_project = cursor.fetchone()[0]
        for n in range(2, scale + 1):
            suffix = f"-X{n:02d}"

            def select(cols, alias, replace):
                return ", ".join(replace.get(col, f"{alias}.{col}") for col in cols)

            new_code = {"code": "a.code || '" + suffix + "'"}
            cursor.execute(
                f"INSERT INTO agreements_agreement ({', '.join(a_cols)}) "
                f"SELECT {select(a_cols, 'a', new_code)} "
                f"FROM agreements_agreement a WHERE a.id <= %s",
                [last_agreement],
            )
            new_project = {"code": "p.code || '" + suffix + "'", "agreement_id": "a2.id"}
            cursor.execute(
                f"INSERT INTO projects_project ({', '.join(p_cols)}) "
                f"SELECT {select(p_cols, 'p', new_project)} "
                "FROM projects_project p JOIN agreements_agreement a ON a.id = p.agreement_id "
                f"JOIN agreements_agreement a2 ON a2.code = a.code || '{suffix}' WHERE p.id <= %s",
                [last_project],
            )
            for model, cols, alias in ((Disbursement, d_cols, "d"), (FacilityOutput, f_cols, "f")):
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
                    f"SELECT {select(cols, alias, {'project_id': 'p2.id'})} "
                    f"FROM {model._meta.db_table} {alias} JOIN projects_project p ON p.id = {alias}.project_id "
                    f"JOIN projects_project p2 ON p2.code = p.code || '{suffix}' WHERE p.id <= %s",
                    [last_project],
                )
            print(f"  copy {n}/{scale}", flush=True)
        cursor.execute("ANALYZE")


def import_file(province, agreement):
    """The 2,000-row projects file a clerk of `province` imports (under one of its demo agreements)."""
    from spreadsheets.writing import write_xlsx

    headers = ["项目编号", "项目名称", "协议编号", "项目类别", "受援单位", "项目状态", "援助金额（万元）",
               "受益人次", "开始日期", "结束日期"]  # fmt: skip
    categories = ["A01", "A05", "B01", "B03", "C01", "C03"]
    rows = [
        [
            f"IMP-{province}-{n:04d}",
            f"负载测试项目 {n}",
            agreement.code,
            categories[n % len(categories)],
            agreement.recipient.code,
            "实施中",
            "1.50",
            n % 7,
            "2023-03-01",
            "",
        ]
        for n in range(1, IMPORT_ROWS + 1)
    ]
    return write_xlsx([("项目", headers, rows)]), rows


def build(url, scale):
    from django.core.management import call_command

    recreate_database(url)
    call_command("migrate", verbosity=0)
    call_command("load_demo")
    t0 = time.monotonic()
    scale_copies(scale)
    print(f"  scaled x{scale} in {time.monotonic() - t0:.1f} s")

    from agreements import services
    from agreements.models import Agreement, Province
    from projects import demo, selectors

    OUT.mkdir(parents=True, exist_ok=True)
    summary = selectors.summary(from_base=True)
    expected = {
        "projects": summary["totals"]["projects"],
        "budget": summary["totals"]["budget"],
        "beneficiaries": summary["totals"]["beneficiaries"],
    }
    clerks = []
    for province in Province.objects.order_by("code"):
        short = demo.SHORT[province.code]
        username = f"clerk_{short.lower()}"
        services.create_staff_user(
            username=username, password=PASSWORD, role=services.ROLE_PROVINCE, province=province
        )
        agreement = Agreement.objects.filter(province=province, code__endswith="-01").order_by("code").first()
        content, rows = import_file(short, agreement)
        path = OUT / f"import-{short}.xlsx"
        path.write_bytes(content)
        clerks.append({"username": username, "province": province.code, "file": str(path)})
        expected["projects"] += len(rows)
        expected["budget"] += Decimal("15000.00") * len(rows)
        expected["beneficiaries"] += sum(row[7] for row in rows)
    (OUT / "load-clerks.json").write_text(json.dumps(clerks, ensure_ascii=False, indent=1))
    (OUT / "load-expected.json").write_text(json.dumps({k: str(v) for k, v in expected.items()}, indent=1))
    print(f"  expected after the load: {expected}")


def check():
    from django.core.management import get_commands

    from projects import selectors

    expected = json.loads((OUT / "load-expected.json").read_text())
    live = selectors.summary(from_base=True)
    ok = True
    for key, value in expected.items():
        actual = str(live["totals"][key])
        same = Decimal(actual) == Decimal(value)
        ok &= same
        print(f"  totals {key}: expected {value}, database {actual} {'OK' if same else 'DIFFERENT'}")
    if "check_rollups" in get_commands():
        result = subprocess.run([sys.executable, "manage.py", "check_rollups"], cwd=ROOT, env=os.environ)
        ok &= result.returncode == 0
        print(f"  check_rollups: exit {result.returncode}")
    rolled = selectors.summary()
    for table in ("by_province", "by_category"):
        drift = [a["code"] for a, b in zip(rolled[table], live[table], strict=True) if a != b]
        ok &= not drift
        print(f"  rollups vs base tables, {table}: {'no drift' if not drift else drift}")
    return ok


def start_servers(url, ports):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": str(OUT / "media"),
        "STATIC_ROOT": str(OUT / "static"),
    }
    servers = []
    for port in ports:
        log = open(OUT / f"server-{port}.log", "wb")  # noqa: SIM115
        servers.append(
            subprocess.Popen(
                ["make", "--no-print-directory", "serve", f"HOST=127.0.0.1:{port}", f"VENV={sys.prefix}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    for port in ports:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"server on {port} did not start; see bench/out/server-{port}.log")
    return servers


def stop_servers(servers):
    for process in servers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in servers:
        process.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--time", default="3m")
    parser.add_argument("--wait", default="2,8", help="seconds between a user's requests: min,max")
    parser.add_argument("--ports", default="8111,8112")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    setup_django(args.url)
    if not (args.check_only or args.skip_build):
        print("1. build", flush=True)
        build(args.url, args.scale)
    if args.build_only:
        return
    if not args.check_only:
        ports = [int(p) for p in args.ports.split(",")]
        print("2. serve", flush=True)
        servers = start_servers(args.url, ports)
        try:
            print("3. load", flush=True)
            command = [
                str(Path(sys.prefix) / "bin" / "locust"),
                "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", args.time,
                "--host", f"http://127.0.0.1:{ports[0]}", "--csv", str(OUT / "load"), "--only-summary",
                "--stop-timeout", "60",
            ]  # fmt: skip
            env = {
                **os.environ,
                "BENCH_SERVERS": ",".join(f"http://127.0.0.1:{p}" for p in ports),
                "BENCH_WAIT": args.wait,
                # Province clerks: one per province at 50 users, the same share (38 %) below that.
                "BENCH_CLERKS": str(min(19, round(args.users * 19 / 50))),
            }
            print("  " + " ".join(command), flush=True)
            subprocess.run(command, cwd=ROOT, env=env)
        finally:
            stop_servers(servers)
    print("4. check", flush=True)
    raise SystemExit(0 if check() else 1)


if __name__ == "__main__":
    main()
