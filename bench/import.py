"""Spreadsheet import/export benchmark on PostgreSQL (issue 4). Prints figures; never part of the tests.

    .venv/bin/python bench/import.py [--rows 50000 200000] [--plain-rows 5000] [--export-rows 100000]

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/aidtracker_bench_import),
dropped and created afresh. Each case runs in a child process so its peak memory (max RSS) is its own:

- ours: preview (read, parse, validate, stage the normalised rows in the database) then confirm (validate
  again, bulk write with history) of an N-row projects xlsx, through `preview_import`/`confirm_import` —
  the admin's own path;
- plain: a plain ModelResource with ForeignKeyWidgets, dry run then real run (its preview and confirm);
- copy: PostgreSQL COPY of the same rows (the floor);
- export: N projects to xlsx through the admin's export path (sheet XML streamed into the zip, queryset
  iterator).
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aidtracker_bench_import"

CATEGORIES = ["A01", "A02", "A03", "A05", "B01", "B02", "B03", "C01", "C02", "C03", "D01", "Z01"]
RECIPIENTS = ["650400", "652700", "653100", "653200", "654200", "BT01", "BT03", "BT12"]
STATUSES = ["计划中", "实施中", "已完成", "in_progress", "completed"]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtracker.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_xlsx(rows, prefix, english_headers=False):
    """A projects sheet as Excel writes it: numbers for amounts, dates as dates and as text."""
    from datetime import date, timedelta

    from openpyxl import Workbook

    from projects.importers import ProjectImporter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("项目")
    columns = ProjectImporter.columns
    sheet.append([c.name for c in columns] if english_headers else [c.header for c in columns])
    start = date(2021, 3, 1)
    for i in range(rows):
        day = start + timedelta(days=i % 1200)
        sheet.append(
            [
                f"{prefix}-{i:07d}",
                f"基准项目{i}",
                f"BENCH-{i % 38:02d}",
                CATEGORIES[i % len(CATEGORIES)],
                RECIPIENTS[i % len(RECIPIENTS)],
                STATUSES[i % len(STATUSES)],
                round(1 + (i % 9973) / 7.0, 6),
                i % 500,
                day if i % 2 else f"{day.year}/{day.month}/{day.day}",
                day + timedelta(days=200),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def prepare():
    """Fresh database, reference data, 38 agreements."""
    import psycopg2
    from django.core.management import call_command

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    base, name = url.rsplit("/", 1)
    connection = psycopg2.connect(base + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    setup_django()
    call_command("migrate", verbosity=0)
    from agreements.models import Agreement, Province, RecipientUnit

    provinces = list(Province.objects.order_by("code"))
    recipient = RecipientUnit.objects.get(code="650000")
    Agreement.objects.bulk_create(
        Agreement(
            code=f"BENCH-{i:02d}",
            title=f"基准协议{i}",
            province=provinces[i % len(provinces)],
            recipient=recipient,
            status="signed",
        )
        for i in range(38)
    )
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password-123")


def case_ours(rows, prefix):
    setup_django()
    from django.contrib.auth import get_user_model

    from projects.importers import ProjectImporter
    from projects.models import Project
    from spreadsheets.services import confirm_import, preview_import

    user = get_user_model().objects.get(username="bench")
    data = generated_file(rows, prefix)
    before = Project.history.count()
    t0 = time.perf_counter()
    record = preview_import(data, "bench.xlsx", user, importers=[ProjectImporter], target="projects.project")
    t1 = time.perf_counter()
    assert not record.errors, record.errors[:3]
    record, outcome = confirm_import(record, user)
    t2 = time.perf_counter()
    assert outcome.written
    history = Project.history.count() - before
    # Re-import of the same file: everything unchanged, nothing written.
    t3 = time.perf_counter()
    again = preview_import(data, "bench.xlsx", user, importers=[ProjectImporter], target="projects.project")
    t4 = time.perf_counter()
    return {
        "rows": rows,
        "file_mb": round(len(data) / 1e6, 1),
        "preview_s": round(t1 - t0, 2),
        "confirm_s": round(t2 - t1, 2),
        "rate": round(rows / (t2 - t0)),
        "history_rows": history,
        "reimport_preview_s": round(t4 - t3, 2),
        "reimport_unchanged": again.counts["项目"]["unchanged"],
        "peak_mb": round(peak_mb()),
    }


def generated_file(rows, prefix):
    """The test file, generated by openpyxl in a process of its own so its memory is not in the peak measured."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"aidtracker-bench-{prefix}-{rows}.xlsx"
    subprocess.run(
        [sys.executable, __file__, "--child", "make", str(rows), prefix], check=True, capture_output=True
    )
    data = path.read_bytes()
    path.unlink()
    return data


def case_make(rows, prefix):
    setup_django()
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"aidtracker-bench-{prefix}-{rows}.xlsx"
    path.write_bytes(make_xlsx(rows, prefix))
    return {"path": str(path)}


def case_plain(rows, prefix):
    setup_django()
    from import_export import fields, resources, widgets
    from import_export.formats.base_formats import XLSX

    from agreements.models import Agreement, RecipientUnit
    from projects.models import Category, Project

    class PlainProjectResource(resources.ModelResource):
        agreement = fields.Field("agreement", "agreement", widgets.ForeignKeyWidget(Agreement, "code"))
        category = fields.Field("category", "category", widgets.ForeignKeyWidget(Category, "code"))
        recipient = fields.Field("recipient", "recipient", widgets.ForeignKeyWidget(RecipientUnit, "code"))

        class Meta:
            model = Project
            import_id_fields = ("code",)
            fields = (
                "code",
                "name",
                "agreement",
                "category",
                "recipient",
                "status",
                "budget",
                "beneficiaries",
            )

    data = make_xlsx(rows, prefix, english_headers=True)
    dataset = XLSX().create_dataset(data)
    # The plain resource wants stored values: English status, yuan, ISO dates.
    status = {"计划中": "planned", "实施中": "in_progress", "已完成": "completed"}
    for index, row in enumerate(dataset.dict):
        dataset[index] = tuple(status.get(v, v) if key == "status" else v for key, v in row.items())
    dataset.headers = [h.replace("budget_wan", "budget") for h in dataset.headers]
    t0 = time.perf_counter()
    result = PlainProjectResource().import_data(dataset, dry_run=True)
    t1 = time.perf_counter()
    assert not result.has_errors() and not result.has_validation_errors(), result.row_errors()[:2]
    PlainProjectResource().import_data(dataset, dry_run=False)
    t2 = time.perf_counter()
    return {
        "rows": rows,
        "preview_s": round(t1 - t0, 2),
        "confirm_s": round(t2 - t1, 2),
        "rate": round(rows / (t2 - t0)),
        "peak_mb": round(peak_mb()),
    }


def case_copy(rows, prefix):
    setup_django()
    from django.db import connection

    from agreements.models import Agreement, RecipientUnit
    from projects.models import Category

    agreements = dict(Agreement.objects.values_list("code", "pk"))
    categories = dict(Category.objects.values_list("code", "pk"))
    recipients = dict(RecipientUnit.objects.values_list("code", "pk"))
    t0 = time.perf_counter()
    buffer = io.StringIO()
    for i in range(rows):
        buffer.write(
            f"{prefix}-{i:07d}\t基准项目{i}\t{agreements[f'BENCH-{i % 38:02d}']}\t"
            f"{categories[CATEGORIES[i % len(CATEGORIES)]]}\t{recipients[RECIPIENTS[i % len(RECIPIENTS)]]}\t"
            f"planned\t{(1 + (i % 9973) / 7.0) * 10000:.2f}\t{i % 500}\t\t\t1\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY projects_project (code, name, agreement_id, category_id, recipient_id, status, budget, "
            "beneficiaries, description, contact, version) FROM STDIN",
            buffer,
        )
    t1 = time.perf_counter()
    return {
        "rows": rows,
        "load_s": round(t1 - t0, 2),
        "rate": round(rows / (t1 - t0)),
        "peak_mb": round(peak_mb()),
    }


def case_export(rows, prefix):
    setup_django()
    from projects.importers import ProjectImporter
    from projects.models import Project
    from spreadsheets.importer import ImportContext
    from spreadsheets.writing import write_xlsx

    queryset = Project.objects.filter(pk__in=Project.objects.order_by("pk").values("pk")[:rows])
    importer = ProjectImporter(ImportContext(None))
    t0 = time.perf_counter()
    with open(os.devnull, "wb"):
        data = write_xlsx([("项目", importer.headers(), importer.export_rows(queryset))])
    t1 = time.perf_counter()
    return {
        "rows": rows,
        "export_s": round(t1 - t0, 2),
        "file_mb": round(len(data) / 1e6, 1),
        "peak_mb": round(peak_mb()),
    }


CASES = {"ours": case_ours, "plain": case_plain, "copy": case_copy, "export": case_export, "make": case_make}


def child(case, rows, prefix):
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, str(rows), prefix],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--plain-rows", type=int, default=5_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        case, rows, prefix = args.child
        print(json.dumps(CASES[case](int(rows), prefix)))
        return
    prepare()
    results = {}
    for index, rows in enumerate(args.rows):
        results[f"ours_{rows}"] = child("ours", rows, f"O{index}")
        print(f"ours   {rows:>7} rows: {results[f'ours_{rows}']}", flush=True)
    results["plain"] = child("plain", args.plain_rows, "PL")
    print(f"plain  {args.plain_rows:>7} rows: {results['plain']}", flush=True)
    copy_rows = args.rows[0]
    results["copy"] = child("copy", copy_rows, "CP")
    print(f"COPY   {copy_rows:>7} rows: {results['copy']}", flush=True)
    results["export"] = child("export", args.export_rows, "")
    print(f"export {args.export_rows:>7} rows: {results['export']}", flush=True)
    first = results[f"ours_{args.rows[0]}"]
    print()
    print(f"ours vs plain resource: {first['rate'] / results['plain']['rate']:.1f}x (goal >= 20x)")
    print(f"ours vs COPY:           {first['rate'] / results['copy']['rate']:.3f} of the floor's rate")
    total = first["preview_s"] + first["confirm_s"]
    print(
        f"{args.rows[0]} rows preview + confirm: {total:.1f} s (goal <= 15 s), peak {first['peak_mb']} MB (<= 400)"
    )
    print(f"export {args.export_rows} rows: {results['export']['export_s']} s (goal <= 15 s)")


if __name__ == "__main__":
    main()
