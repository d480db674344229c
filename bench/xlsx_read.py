"""Reading speed and peak memory of the xlsx reader: our streaming expat reader against python-calamine
behind its pre-scan (spreadsheets.xlsx_fast), in the same run. Prints figures; never part of the tests.

    .venv/bin/python bench/xlsx_read.py [--rows 50000 200000] [--repeat 2]

The files are `bench/import.py`'s projects sheets (openpyxl write-only: inline strings, numbers, dates),
written once into a temporary directory. Each reading runs in a child process of its own, so its peak memory
(max RSS, which counts calamine's own copy of the sheet) is its own; the rows are consumed one at a time as
the importer does, never kept. The time is the best of --repeat runs, the two readers taking turns.
"""

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtracker.settings")
    import django

    django.setup()


def child_write(rows, path):
    setup_django()
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    Path(path).write_bytes(bench.make_xlsx(rows, "P"))


def child_read(path, fast):
    setup_django()
    from spreadsheets import reading
    from spreadsheets.xlsx_fast import FastBook

    used = []
    original = FastBook.rows

    def recording(self, *args):
        rows = original(self, *args)
        used.append("calamine" if rows is not None else "expat")
        return rows

    FastBook.rows = recording
    reading.FAST_XLSX = fast
    data = Path(path).read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    count = 0
    for sheet in reading.open_file(data, "p.xlsx"):
        for _row in sheet.rows:
            count += 1
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": count, "peak": peak, "base": base, "used": used}))


def child_import(rows, prefix, fast):
    """bench/import.py's *ours* case (preview, confirm and the re-import preview, one process) with calamine
    allowed or not."""
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.setup_django()
    from spreadsheets import reading

    reading.FAST_XLSX = fast
    print(json.dumps(bench.case_ours(rows, prefix)))


def prepare_import_database():
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import runpy, sys; sys.argv=['x']; "
            f"m = runpy.run_path({str(ROOT / 'bench' / 'import.py')!r}, run_name='bench'); m['prepare']()",
        ],
        check=True,
        cwd=ROOT,
    )


def run(*args):
    done = subprocess.run(
        [sys.executable, __file__, *map(str, args)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--import-rows",
        type=int,
        nargs="*",
        default=[],
        help="also run bench/import.py's preview + confirm at these sizes with each reader (PostgreSQL, "
        "BENCH_DATABASE_URL, dropped and created afresh)",
    )
    options = parser.parse_args()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for rows in options.rows:
            path = Path(folder) / f"p{rows}.xlsx"
            subprocess.run(
                [sys.executable, __file__, "--child-write", str(rows), str(path)], check=True, cwd=ROOT
            )
            results = {"expat": [], "calamine": []}
            print(f"{rows} rows written", flush=True)
            for _ in range(options.repeat):
                for name in ("expat", "calamine"):
                    results[name].append(run("--child-read", path, int(name == "calamine")))
            best = {name: min(runs, key=lambda r: r["seconds"]) for name, runs in results.items()}
            ours, fast = best["expat"], best["calamine"]
            size = path.stat().st_size / 1e6
            print(f"{rows} rows × 10 columns ({size:.1f} MB xlsx):")
            for name, result in best.items():
                print(
                    f"  {name:9} {result['seconds']:6.2f} s  {result['rows'] / result['seconds']:9,.0f} rows/s  "
                    f"peak {result['peak']:.0f} MB (after start-up {result['base']:.0f} MB)  read by {result['used']}"
                )
            print(f"  calamine (pre-scan included) vs ours: {ours['seconds'] / fast['seconds']:.2f}x as fast")
    if options.import_rows:
        prepare_import_database()
        for index, rows in enumerate(options.import_rows):
            for name in ("expat", "calamine"):
                result = run("--child-import", rows, f"{name[0].upper()}{index}", int(name == "calamine"))
                print(f"import {rows} rows, {name:9}: {result}", flush=True)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-write"]:
        child_write(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:2] == ["--child-import"]:
        child_import(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1")
    elif sys.argv[1:2] == ["--child-read"]:
        child_read(sys.argv[2], sys.argv[3] == "1")
    else:
        main()
