"""Keep the Chinese catalogues in locale/ complete.

    python tools/i18n_merge.py update         # makemessages + library msgids + fill + zh_Hant + compile
    python tools/i18n_merge.py todo [FILE]    # untranslated zh_Hans entries as JSON {key: ""}
    python tools/i18n_merge.py apply FILE     # write translations from JSON {key: msgstr} into zh_Hans
    python tools/i18n_merge.py stats          # translated/untranslated per catalogue

A key is the msgid, or "msgctxt\\x04msgid" for an entry with a context (as in the .mo files).

Our catalogue under LOCALE_PATHS is looked up before those of the apps, so it also carries every msgid of
the libraries whose zh-hans catalogue is missing or incomplete (django-filter ships only zh_CN, which
Django does not use for zh-hans; django-import-export's zh_Hans is outdated; django-axes has none;
django-simple-history has no zh_Hant). ``makemessages --no-obsolete`` drops those entries, so ``update``
keeps the previous catalogue as translation memory and puts them back.

Translations come, in this order, from locale/*_strings.txt (``English<TAB>中文`` lines written by the
other parts of the project), from the previous catalogue, and, for library strings only, from the
libraries' own Chinese catalogues. Fuzzy guesses made by msgmerge are never kept. zh_Hant is converted
from zh_Hans with OpenCC (s2tw: characters only, no change of vocabulary); where a msgid is also Django's
own and our zh-hans text equals Django's, Django's zh-hant text is used so the admin reads the same
everywhere. OpenCC is not a dependency of the project: pass ``--opencc-python /path/to/python`` (a venv
with opencc-python-reimplemented) or set I18N_OPENCC_PYTHON.
"""

import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

BASE = Path(__file__).resolve().parent.parent
LOCALE = BASE / "locale"
HANS_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
HANT_PO = LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"
VENV_PY = BASE / ".venv" / "bin" / "python"
PLURAL_FORMS = "nplurals=1; plural=0;"
LIBRARIES = ["import_export", "django_filters", "simple_history", "axes"]
# Chinese catalogues the libraries ship (used only to pre-fill library strings; all reviewed).
LIBRARY_CATALOGUES = {
    "import_export": ["zh_Hans"],
    "django_filters": ["zh_CN"],
    "simple_history": ["zh_Hans"],
    "axes": [],
}
SEP = "\x04"


# --- PO files, through polib --------------------------------------------------------------------------


def key(entry):
    """The msgid, or "msgctxt\\x04msgid" for an entry with a context (as in the .mo files)."""
    return f"{entry.msgctxt}{SEP}{entry.msgid}" if entry.msgctxt is not None else entry.msgid


def text(entry):
    """The (first) translation."""
    if entry.msgid_plural:
        return entry.msgstr_plural.get(0, "")
    return entry.msgstr


def set_text(entry, value):
    if entry.msgid_plural:
        entry.msgstr_plural = {0: value}
    else:
        entry.msgstr = value
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")


def clear(entry):
    set_text(entry, "")
    entry.previous_msgctxt = entry.previous_msgid = entry.previous_msgid_plural = None


def parse_po(path):
    return polib.pofile(str(path), wrapwidth=79)


def write_po(path, po):
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    # Normalise the layout exactly as gettext would write it (keeps later diffs small); also validates.
    subprocess.run(["msgcat", "--use-first", "-o", str(path), str(path)], check=True)


def set_header(po, language):
    po.metadata.update(
        {
            "Project-Id-Version": "aidtracker",
            "Language": language,
            "Language-Team": f"aidtracker {language}",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": PLURAL_FORMS,
            "Last-Translator": "aidtracker <i18n@aidtracker.invalid>",
            "PO-Revision-Date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M+0000"),
        }
    )
    po.metadata_is_fuzzy = False
    po.header = (
        "Chinese catalogue of aidtracker, including the strings of django-import-export, django-filter,\n"
        "django-simple-history and django-axes. Maintained with tools/i18n_merge.py.\n"
    )


# --- placeholders -------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[^{}]*\}"
)


def placeholders(text):
    return sorted(p for p in _PLACEHOLDER.findall(text) if p != "%%")


def placeholders_ok(entry, translation):
    """The translation keeps the placeholders. With nplurals=1 the one plural form serves every count,
    so it must keep those of msgid_plural (gettext checks msgstr[0] against msgid_plural too)."""
    source = entry.msgid_plural or entry.msgid
    return placeholders(source) == placeholders(translation)


# --- sources of translations --------------------------------------------------------------------------


def strings_txt():
    memory = {}
    for path in sorted(glob.glob(str(LOCALE / "*_strings.txt"))):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if "\t" not in line or line.startswith("#"):
                continue
            english, chinese = line.split("\t", 1)
            english, chinese = english.strip(), chinese.strip()
            if english and chinese:
                memory[english.replace("\\n", "\n")] = chinese.replace("\\n", "\n")
    return memory


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def site_packages():
    out = subprocess.run(
        [str(VENV_PY), "-c", "import django, os; print(os.path.dirname(os.path.dirname(django.__file__)))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def library_entries():
    """Every msgid of the libraries (sources and templates), with any Chinese text they ship."""
    sp = site_packages()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lib in LIBRARIES:
            work = Path(tmp) / lib
            (work / "locale").mkdir(parents=True)
            run(
                [
                    "rsync",
                    "-a",
                    "--exclude",
                    "locale",
                    "--exclude",
                    "__pycache__",
                    "--exclude",
                    "migrations",
                    "--exclude",
                    "tests",
                    f"{sp / lib}/",
                    str(work / "src"),
                ]
            )
            env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
            run(
                [
                    str(VENV_PY),
                    "-m",
                    "django",
                    "makemessages",
                    "-l",
                    "zh_Hans",
                    "--no-obsolete",
                    "--no-location",
                    "-v",
                    "0",
                ],
                cwd=work,
                env=env,
            )
            pot = work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
            shipped = {}
            for lang in LIBRARY_CATALOGUES[lib]:
                po = sp / lib / "locale" / lang / "LC_MESSAGES" / "django.po"
                if po.exists():
                    for e in parse_po(po).translated_entries():
                        shipped[key(e)] = text(e)
            for e in parse_po(pot):
                if e.obsolete or key(e) in result:
                    continue
                e.comment, e.tcomment, e.occurrences = lib, "", []
                e.flags = [f for f in e.flags if f != "fuzzy"]
                clear(e)
                e.shipped = shipped.get(key(e), "")
                result[key(e)] = e
    return result


def django_catalogue(lang):
    """msgid -> msgstr of Django's own catalogues (core and contrib) for one language."""
    sp = site_packages()
    memory = {}
    for po in sorted(
        glob.glob(str(sp / "django" / "**" / "locale" / lang / "LC_MESSAGES" / "django.po"), recursive=True)
    ):
        for e in parse_po(po).translated_entries():
            memory.setdefault(key(e), text(e))
    return memory


# --- commands -----------------------------------------------------------------------------------------


def update(args):
    previous = {}
    if HANS_PO.exists():
        for e in parse_po(HANS_PO).translated_entries():
            previous[key(e)] = text(e)
    run(
        [
            str(VENV_PY),
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--ignore=bench/*",
            "--ignore=tests/*",
            "--ignore=tools/*",
            "-v",
            "0",
        ],
        cwd=BASE,
    )
    po = parse_po(HANS_PO)
    for e in po.obsolete_entries():
        po.remove(e)
    keys = {key(e) for e in po}
    for library_key, e in library_entries().items():
        if library_key not in keys:
            po.append(e)
            keys.add(library_key)
    memory = strings_txt()
    conflicts = []
    for e in po:
        if "fuzzy" in e.flags:  # a msgmerge guess, never a translation
            clear(e)
        e.flags = [f for f in e.flags if f != "fuzzy"]
        e.previous_msgctxt = e.previous_msgid = e.previous_msgid_plural = None
        candidates = []
        if e.msgctxt is None:
            for english in (e.msgid_plural, e.msgid):
                if english in memory:
                    candidates.append(memory[english])
        if key(e) in previous:
            candidates.append(previous[key(e)])
        if getattr(e, "shipped", ""):
            candidates.append(e.shipped)
        for c in candidates:
            if not placeholders_ok(e, c):
                print(f"placeholders differ, not used: {e.msgid!r} -> {c!r}")
        candidates = [c for c in candidates if placeholders_ok(e, c)]
        if candidates:
            if key(e) in previous and candidates[0] != previous[key(e)]:
                conflicts.append((e.msgid, previous[key(e)], candidates[0]))
            set_text(e, candidates[0])
        else:
            clear(e)
    set_header(po, "zh_Hans")
    write_po(HANS_PO, po)
    for msgid, old, new in conflicts:
        print(f"strings.txt overrides {msgid!r}: {old!r} -> {new!r}")
    hant(args)


def hant(args):
    po = parse_po(HANS_PO)
    entries = [e for e in po if not e.obsolete]
    opencc_python = args.opencc_python or os.environ.get("I18N_OPENCC_PYTHON", "/tmp/i18nvenv/bin/python")
    script = (
        "import json, sys, opencc\n"
        "c = opencc.OpenCC('s2tw')\n"
        "print(json.dumps([c.convert(t) for t in json.load(sys.stdin)], ensure_ascii=False))\n"
    )
    out = subprocess.run(
        [opencc_python, "-c", script],
        input=json.dumps([text(e) for e in entries]),
        capture_output=True,
        text=True,
        check=True,
    )
    converted = json.loads(out.stdout)
    django_hans, django_hant = django_catalogue("zh_Hans"), django_catalogue("zh_Hant")
    for e, traditional in zip(entries, converted, strict=True):
        if key(e) in django_hant and django_hans.get(key(e)) == text(e) and text(e):
            traditional = django_hant[key(e)]
        for wrong, right in HANT_FIXES.items():
            traditional = traditional.replace(wrong, right)
        if text(e):
            set_text(e, traditional)
    set_header(po, "zh_Hant")
    write_po(HANT_PO, po)
    compile_all()
    stats(args)


# Words OpenCC's character conversion gets wrong or that read oddly in Traditional Chinese.
HANT_FIXES = {"後臺": "後台", "賬號": "帳號", "賬戶": "帳戶"}


def compile_all():
    for po in (HANS_PO, HANT_PO):
        run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)])


def stats(args=None):
    for path in (HANS_PO, HANT_PO):
        if not path.exists():
            continue
        po = parse_po(path)
        live = [e for e in po if not e.obsolete]
        done = len(po.translated_entries())
        fuzzy = len(po.fuzzy_entries())
        print(f"{path.relative_to(BASE)}: {done} translated, {len(live) - done} untranslated, {fuzzy} fuzzy")


def todo(args):
    po = parse_po(HANS_PO)
    missing = {key(e): "" for e in po if not e.translated() and not e.obsolete}
    listing = json.dumps(missing, ensure_ascii=False, indent=1)
    if args.file:
        Path(args.file).write_text(listing, encoding="utf-8")
        print(f"{len(missing)} untranslated entries written to {args.file}")
    else:
        print(listing)


def apply(args):
    translations = json.loads(Path(args.file).read_text(encoding="utf-8"))
    po = parse_po(HANS_PO)
    by_key = {key(e): e for e in po if not e.obsolete}
    bad = []
    for entry_key, translation in translations.items():
        if not translation:
            continue
        e = by_key.get(entry_key)
        if e is None:
            print(f"not in the catalogue (skipped): {entry_key!r}")
            continue
        if not placeholders_ok(e, translation):
            bad.append((entry_key, translation))
            continue
        set_text(e, translation)
    for entry_key, translation in bad:
        print(f"placeholders differ (skipped): {entry_key!r} -> {translation!r}")
    write_po(HANS_PO, po)
    hant(args)
    if bad:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--opencc-python", help="a python with opencc-python-reimplemented installed")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update").set_defaults(func=update)
    sub.add_parser("hant").set_defaults(func=hant)
    sub.add_parser("stats").set_defaults(func=stats)
    p = sub.add_parser("todo")
    p.add_argument("file", nargs="?")
    p.set_defaults(func=todo)
    p = sub.add_parser("apply")
    p.add_argument("file")
    p.set_defaults(func=apply)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
