"""Write cost of the rollup triggers on PostgreSQL: the same writes with the triggers on and off.

    .venv/bin/python bench/trigger_cost.py [--url postgres://postgres@127.0.0.1:5432/aidtracker_bench]
                                           [--rows 500] [--bulk 50000]

Runs against a database loaded by bench/dashboard.py and changes nothing in it: every measurement is rolled
back. Measures one-row INSERTs of disbursements (an admin save), one-row status UPDATEs of projects, and one
set-wise INSERT of `--bulk` disbursements (an import), each with the triggers enabled and disabled; the
difference per row is what the triggers cost, the project row lock (FOR SHARE) included.
"""

import argparse
import os
import time
from urllib.parse import urlparse

import psycopg2

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidtracker_bench"
TABLES = ("projects_project", "projects_disbursement", "projects_facilityoutput")


def connect(url):
    parsed = urlparse(url)
    return psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.path.lstrip("/"),
    )


def measure(conn, triggers, rows, bulk):
    """(ms per one-row insert, ms per one-row status update, ms per row of a set-wise insert)."""
    out = []
    with conn.cursor() as cursor:
        if not triggers:
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute("SELECT id FROM projects_project ORDER BY id LIMIT %s", [rows])
        projects = [row[0] for row in cursor.fetchall()]
        columns = "project_id, date, amount, reference, version"
        started = time.perf_counter()
        for i, project in enumerate(projects):
            cursor.execute(
                f"INSERT INTO projects_disbursement ({columns}) VALUES (%s, '2024-05-01', 1234.56, %s, 1)",
                [project, f"BENCH-{i}"],
            )
        out.append((time.perf_counter() - started) * 1000 / len(projects))
        started = time.perf_counter()
        for project in projects:
            cursor.execute(
                "UPDATE projects_project SET status = CASE WHEN status = 'cancelled' THEN 'in_progress'"
                " ELSE 'cancelled' END WHERE id = %s",
                [project],
            )
        out.append((time.perf_counter() - started) * 1000 / len(projects))
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO projects_disbursement ({columns}) SELECT p.id, '2024-06-01', 99.99,"
            " 'BULK-' || p.id, 1 FROM projects_project p ORDER BY p.id LIMIT %s",
            [bulk],
        )
        out.append((time.perf_counter() - started) * 1000 / bulk)
    conn.rollback()
    return out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--bulk", type=int, default=50000)
    args = parser.parse_args()
    conn = connect(args.url)
    print(f"{'write':<40}{'triggers on':>14}{'off':>10}{'trigger cost':>14}  (ms per row)")
    on = measure(conn, True, args.rows, args.bulk)
    off = measure(conn, False, args.rows, args.bulk)
    labels = [
        f"one-row INSERT of a disbursement ×{args.rows}",
        f"one-row UPDATE of a project's status ×{args.rows}",
        f"set-wise INSERT of {args.bulk:,} disbursements",
    ]
    for label, a, b in zip(labels, on, off, strict=True):
        print(f"{label:<40}{a:>14.3f}{b:>10.3f}{a - b:>14.3f}")


if __name__ == "__main__":
    main()
