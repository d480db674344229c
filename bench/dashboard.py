"""Dashboard benchmark on PostgreSQL: summary.json and the three pages, warm, against the live query.

    .venv/bin/python bench/dashboard.py [--url postgres://postgres@127.0.0.1:5432/aidtracker_bench]
                                        [--sizes 10000,100000,1000000] [--repeat 40]

For each size it (re)creates the database, migrates, loads N projects, 3N disbursements, 0.3N facility
outputs and progress reports (for the reporting quarter of today and the three before it, on about 70% of
the projects due each, in every state) over the 19 provinces with COPY (rollup triggers disabled during the load, then
`rebuild_rollups`, as for any COPY load), and then measures, warm:

- GET /dashboard/summary.json unfiltered, ?province=110000 and ?category=B (the goals: p50 <= 50 ms,
  p95 <= 100 ms, at least 5x faster than the live query, identical figures);
- the overview, a province and a category page;
- the single hand-written SQL query computing the same per-province and per-category figures straight from
  the base tables (GROUPING SETS over projects joined to per-project disbursement sums), checked equal;
  and the `reporting` block (report coverage per province) checked equal to a hand-written count.

Prints p50/p95 and ratios; never part of the test run's pass/fail. The database is left in place.
"""

import argparse
import csv
import io
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidtracker_bench"

LIVE_SQL = """
WITH paid AS (SELECT project_id, SUM(amount) AS amount FROM projects_disbursement GROUP BY project_id)
SELECT GROUPING(a.province_id) AS by_category, a.province_id, COALESCE(c.parent_id, c.id) AS category_id,
       COUNT(*), SUM(p.budget), COALESCE(SUM(paid.amount), 0),
       COUNT(*) FILTER (WHERE p.status = 'completed'), SUM(p.beneficiaries)
FROM projects_project p
JOIN agreements_agreement a ON a.id = p.agreement_id
JOIN projects_category c ON c.id = p.category_id
LEFT JOIN paid ON paid.project_id = p.id
WHERE p.status <> 'cancelled' {where}
GROUP BY GROUPING SETS ((a.province_id), (COALESCE(c.parent_id, c.id)))
"""

# Report coverage for the reporting quarter, by hand: projects due (DESIGN section 7) by their report's state.
REPORTING_SQL = """
SELECT a.province_id, COALESCE(r.status, 'missing'), COUNT(*)
FROM projects_project p
JOIN agreements_agreement a ON a.id = p.agreement_id
JOIN projects_category c ON c.id = p.category_id
LEFT JOIN projects_progressreport r ON r.project_id = p.id AND r.year = %(year)s AND r.quarter = %(quarter)s
WHERE ((p.status = 'in_progress' AND (p.start_date IS NULL OR p.start_date <= %(last)s))
       OR (p.status = 'completed' AND p.end_date BETWEEN %(first)s AND %(last)s)) {where}
GROUP BY 1, 2
"""

CASES = [
    ("unfiltered", "", ""),
    (
        "province=110000",
        "province=110000",
        "AND a.province_id = (SELECT id FROM agreements_province WHERE code = '110000')",
    ),
    (
        "category=B",
        "category=B",
        "AND c.parent_id = (SELECT id FROM projects_category WHERE code = 'B')",
    ),
]
PAGES = [
    ("overview", "/dashboard/"),
    ("province page", "/dashboard/provinces/110000/"),
    ("category page", "/dashboard/categories/B/"),
]

# Facility types a sub-category builds (outputs go to building projects, as in the real programme).
BUILDS = {"A01": "F04", "A02": "F03", "A03": "F02", "A04": "F07", "A05": "F01", "A06": "F05"}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20220819)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data already loaded (one size) instead of loading"
    )
    return parser.parse_args()


def recreate_database(url):
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def copy_rows(cursor, table, columns, rows, *, versioned=True):
    """COPY rows in; versioned tables get version 1 (the column has no database default)."""
    if versioned and "version" not in columns:
        columns = [*columns, "version"]
        rows = (row + (1,) for row in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    buffer.seek(0)
    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
    )


TRIGGERED = (
    "projects_project",
    "projects_disbursement",
    "projects_facilityoutput",
    "projects_progressreport",
)


def load(n_projects, seed):
    """COPY the data set in, with the rollup triggers off, then rebuild the rollups."""
    from django.db import connection

    from agreements.models import Pairing, Province, RecipientUnit
    from projects.models import Category, FacilityType
    from projects.rollups import rebuild_rollups

    rng = random.Random(seed)
    pairings = list(
        Pairing.objects.select_related("province", "recipient").order_by("province__code", "recipient__path")
    )
    children = {}
    for unit in RecipientUnit.objects.all():
        children.setdefault(unit.parent_id, []).append(unit.pk)
    subcategories = list(Category.objects.filter(parent__isnull=False).values_list("pk", "code"))
    weights = [
        5 if code.startswith(("A", "B")) else 3 if code.startswith("C") else 1 for _, code in subcategories
    ]
    facility = {ft.code: ft.pk for ft in FacilityType.objects.all()}
    statuses = ["planned", "in_progress", "completed", "cancelled"]
    status_weights = [15, 30, 50, 5]

    agreements = []
    for i, pairing in enumerate(pairings, start=1):
        agreements.append(
            (
                i,
                f"AG-{i:03d}",
                f"协议 {i}",
                pairing.province_id,
                "",
                pairing.recipient_id,
                "2021-03-01",
                rng.randint(5_000_000, 60_000_000),
                rng.choice(["signed", "signed", "completed"]),
                "",
                "",
            )
        )
    projects, disbursements, outputs = [], [], []
    used = set()
    for pk in range(1, n_projects + 1):
        agreement = agreements[pk % len(agreements)]
        units = [agreement[5], *children.get(agreement[5], [])]
        category_pk, category_code = rng.choices(subcategories, weights)[0]
        status = rng.choices(statuses, status_weights)[0]
        start = date(2021, 1, 1) + timedelta(days=rng.randrange(5 * 365))
        budget = Decimal(rng.randint(1_000_000, 100_000_000)) / 100
        projects.append(
            (
                pk,
                f"P{pk:07d}",
                "项目",
                agreement[0],
                category_pk,
                rng.choice(units),
                status,
                budget,
                rng.randint(0, 200),
                start.isoformat(),
                "",
                "",
            )
        )
        for j in range(3):
            day = start + timedelta(days=rng.randrange(400))
            disbursements.append((pk, day.isoformat(), (budget / 4).quantize(Decimal("0.01")), f"V{j}"))
        if category_code in BUILDS and len(outputs) < n_projects * 3 // 10:
            outputs.append((pk, facility[BUILDS[category_code]], rng.randint(1, 3)))
            used.add(pk)
    reports = _reports(rng, projects)
    # Top up to 0.3 N outputs with service centres on other projects.
    pk = 1
    while len(outputs) < n_projects * 3 // 10:
        if pk not in used:
            outputs.append((pk, facility["F08"], 1))
        pk += 1

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE projects_facilityoutput, projects_disbursement, projects_project, agreements_agreement,"
            " projects_projectrollup, projects_facilityrollup, projects_disbursementrollup,"
            " projects_reportcoveragerollup RESTART IDENTITY CASCADE"
        )
        for table in TRIGGERED:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        copy_rows(
            cursor,
            "agreements_agreement",
            [
                "id",
                "code",
                "title",
                "province_id",
                "donor_unit",
                "recipient_id",
                "signed_on",
                "pledged",
                "status",
                "document",
                "notes",
            ],
            agreements,
        )
        copy_rows(
            cursor,
            "projects_project",
            [
                "id",
                "code",
                "name",
                "agreement_id",
                "category_id",
                "recipient_id",
                "status",
                "budget",
                "beneficiaries",
                "start_date",
                "description",
                "contact",
            ],
            projects,
        )
        copy_rows(
            cursor, "projects_disbursement", ["project_id", "date", "amount", "reference"], disbursements
        )
        copy_rows(cursor, "projects_facilityoutput", ["project_id", "facility_type_id", "quantity"], outputs)
        copy_rows(
            cursor,
            "projects_progressreport",
            [
                "project_id",
                "year",
                "quarter",
                "percent_complete",
                "narrative",
                "status",
                "review_note",
                "version",
            ],
            reports,
        )
        for table in TRIGGERED:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("SELECT setval(pg_get_serial_sequence('projects_project', 'id'), %s)", [n_projects])
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('agreements_agreement', 'id'), %s)", [len(agreements)]
        )
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    rebuild_rollups()
    rebuilt = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM projects_projectrollup")
        rollup_rows = cursor.fetchone()[0]
    assert Province.objects.count() == 19
    return {
        "copy_s": loaded,
        "rebuild_s": rebuilt,
        "rollup_rows": rollup_rows,
        "disbursements": len(disbursements),
        "outputs": len(outputs),
        "agreements": len(agreements),
        "reports": len(reports),
    }


def _reports(rng, projects):
    """Reports for the last four reporting quarters on about 70% of the projects due each, every state.

    Projects here have no end date, so completed ones are never due; in-progress ones are due from their
    start on (the rule is projects.reporting.due_q's; the bench checks the served figures against SQL)."""
    from projects.demo_reports import last_quarters
    from projects.reporting import quarter_bounds, reporting_quarter

    states = ["draft", "submitted", "returned", "approved"]
    rows = []
    for year, quarter in last_quarters(*reporting_quarter()):
        last = quarter_bounds(year, quarter)[1].isoformat()
        for project in projects:
            pk, status, start = project[0], project[6], project[9]
            if status != "in_progress" or start > last or rng.random() > 0.7:
                continue
            state = rng.choices(states, [10, 20, 5, 65])[0]
            rows.append((pk, year, quarter, rng.randint(0, 100), "本季度按计划推进。", state, "", 1))
    return rows


def existing(size):
    """Describe the data already in the database (--reuse)."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in (
            "projects_project",
            "projects_disbursement",
            "projects_facilityoutput",
            "agreements_agreement",
            "projects_projectrollup",
            "projects_progressreport",
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    assert counts["projects_project"] == size, f"the database holds {counts['projects_project']} projects"
    return {
        "copy_s": 0.0,
        "rebuild_s": 0.0,
        "rollup_rows": counts["projects_projectrollup"],
        "disbursements": counts["projects_disbursement"],
        "outputs": counts["projects_facilityoutput"],
        "agreements": counts["agreements_agreement"],
        "reports": counts["projects_progressreport"],
    }


def timed(function, repeat):
    for _ in range(3):  # warm up
        function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def live_query(where):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LIVE_SQL.format(where=where))
        return cursor.fetchall()


def reporting_rows(where):
    from django.db import connection

    from projects.reporting import quarter_bounds, reporting_quarter

    year, quarter = reporting_quarter()
    first, last = quarter_bounds(year, quarter)
    with connection.cursor() as cursor:
        cursor.execute(
            REPORTING_SQL.format(where=where.replace("%", "%%")),
            {"year": year, "quarter": quarter, "first": first, "last": last},
        )
        return cursor.fetchall()


def check_reporting(body, where):
    """summary.json's `reporting` block equals the hand-written count."""
    from agreements.models import Province

    province_code = dict(Province.objects.values_list("pk", "code"))
    live = {}
    for province_id, state, count in reporting_rows(where):
        row = live.setdefault(province_code[province_id], {"due": 0})
        row[state] = count
        row["due"] += count
    served = {
        row["code"]: {k: v for k, v in row.items() if k not in ("code", "name") and v}
        for row in body["reporting"]["provinces"]
        if row["due"]
    }
    return served == live


def check_identical(body, live_rows):
    """The live query's per-province and per-category figures equal summary.json's."""
    from agreements.models import Province
    from projects.models import Category

    province_code = dict(Province.objects.values_list("pk", "code"))
    category_code = dict(Category.objects.values_list("pk", "code"))
    live = {}
    for by_category, province_id, category_id, projects, budget, paid, completed, beneficiaries in live_rows:
        key = ("c", category_code[category_id]) if by_category else ("p", province_code[province_id])
        live[key] = (projects, f"{budget:.2f}", f"{paid:.2f}", completed, beneficiaries)
    fields = ("projects", "budget", "disbursed", "completed", "beneficiaries")
    served = {("p", r["code"]): tuple(r[f] for f in fields) for r in body["by_province"] if r["projects"]}
    served.update(
        {("c", r["code"]): tuple(r[f] for f in fields) for r in body["by_category"] if r["projects"]}
    )
    return served == live


def main():
    args = parse_args()
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtracker.settings")
    os.environ.setdefault("AXES_ENABLED", "0")
    if not args.reuse:
        recreate_database(args.url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from agreements import services

    settings.DEBUG = False  # no query log in the timings
    call_command("migrate", verbosity=0)
    manager = services.create_staff_user(  # idempotent: get_or_create
        username="bench-manager", password="bench-manager-pw", role=services.ROLE_MANAGER
    )
    client = Client()
    client.force_login(manager)

    print(
        f"PostgreSQL benchmark at {args.url} ({os.cpu_count()} cores), {args.repeat} warm runs per figure\n"
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        info = existing(size) if args.reuse else load(size, args.seed)
        print(
            f"## {size:,} projects, {info['disbursements']:,} disbursements, {info['outputs']:,} outputs, "
            f"{info['agreements']} agreements, {info['reports']:,} progress reports — COPY {info['copy_s']:.1f} s, rebuild_rollups {info['rebuild_s']:.1f} s, "
            f"{info['rollup_rows']:,} project rollup rows"
        )
        print(f"{'request':<36}{'p50 ms':>9}{'p95 ms':>9}{'live p50':>10}{'ratio':>8}  figures")
        json_p50 = {}
        for label, query, where in CASES:
            url = f"/dashboard/summary.json?{query}"
            response = client.get(url)
            assert response.status_code == 200, response.content[:500]
            p50, p95 = timed(lambda url=url: client.get(url), args.repeat)
            live_p50, _ = timed(lambda where=where: live_query(where), max(3, args.repeat // 8))
            same = check_identical(response.json(), live_query(where)) and check_reporting(
                response.json(), where
            )
            print(
                f"{'summary.json ' + label:<36}{p50:>9.1f}{p95:>9.1f}{live_p50:>10.1f}{live_p50 / p50:>7.1f}x  "
                f"{'identical' if same else 'DIFFERENT'}"
            )
            json_p50[label] = p50
        pages = {}
        for label, url in PAGES:
            assert client.get(url).status_code == 200
            p50, p95 = timed(lambda url=url: client.get(url), max(5, args.repeat // 2))
            print(f"{label:<36}{p50:>9.1f}{p95:>9.1f}")
            pages[label] = p50
        # Below the table (whose columns stay as they are): each page against summary.json. The table's
        # figures are taken one URL after the other, so a drift of the machine during the run (another
        # process, a checkpoint) lands on one of them only; the ratios are therefore also measured in
        # rounds that ask summary.json and each page in turn, the median of each over the rounds.
        baseline = json_p50["unfiltered"]
        for label, p50 in pages.items():
            print(f"{label} / summary.json unfiltered, from the table: {p50 / baseline:.2f}x (goal <= 1.5x)")
        rounds = {"summary.json": [], **{label: [] for label, _url in PAGES}}
        urls = [("summary.json", "/dashboard/summary.json"), *PAGES]
        for _ in range(args.repeat):
            for label, url in urls:
                started = time.perf_counter()
                client.get(url)
                rounds[label].append((time.perf_counter() - started) * 1000)
        json_median = statistics.median(rounds["summary.json"])
        for label, _url in PAGES:
            ratio = statistics.median(rounds[label]) / json_median
            print(f"{label} / summary.json unfiltered, in {args.repeat} rounds: {ratio:.2f}x (goal <= 1.5x)")
        print()


if __name__ == "__main__":
    main()
