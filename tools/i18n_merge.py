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


# --- a small PO reader/writer -------------------------------------------------------------------------


class Entry:
    def __init__(self):
        self.comments = []  # raw comment lines other than flags ("#.", "#:", "# ", "#|")
        self.flags = []
        self.msgctxt = None
        self.msgid = ""
        self.msgid_plural = None
        self.msgstr = ""
        self.msgstr_plural = {}
        self.obsolete = False

    @property
    def key(self):
        return f"{self.msgctxt}{SEP}{self.msgid}" if self.msgctxt is not None else self.msgid

    @property
    def translated(self):
        if "fuzzy" in self.flags:
            return False
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)

    @property
    def text(self):
        """The (first) translation."""
        if self.msgid_plural is not None:
            return self.msgstr_plural.get(0, "")
        return self.msgstr

    def set_text(self, value):
        if self.msgid_plural is not None:
            self.msgstr_plural = {0: value}
        else:
            self.msgstr = value
        if "fuzzy" in self.flags:
            self.flags.remove("fuzzy")

    def clear(self):
        self.set_text("")
        self.comments = [c for c in self.comments if not c.startswith("#|")]


def _unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    s = s[1:-1]
    out, i = [], 0
    escapes = {
        "n": "\n",
        "t": "\t",
        '"': '"',
        "\\": "\\",
        "r": "\r",
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "v": "\v",
    }
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(escapes.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(path):
    entries, cur, field = [], None, None

    def flush():
        nonlocal cur
        if cur is not None and (cur.msgid or cur.msgstr or cur.msgctxt is not None or not entries):
            entries.append(cur)
        cur = None

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].lstrip()
            if not line:
                continue
        if not line.strip():
            flush()
            field = None
            continue
        if line.startswith("#") and not obsolete:
            if cur is not None and field is not None:
                flush()
                field = None
            if cur is None:
                cur = Entry()
            if line.startswith("#,"):
                cur.flags.extend(f.strip() for f in line[2:].split(",") if f.strip())
            else:
                cur.comments.append(line)
            continue
        m = re.match(r"(msgctxt|msgid_plural|msgid|msgstr\[(\d+)\]|msgstr)\s+(\".*\")$", line)
        if m:
            kw = m.group(1)
            if kw in ("msgctxt", "msgid") and field is not None and field[0] in ("msgstr", "msgstr_plural"):
                flush()
                field = None
            if cur is None:
                cur = Entry()
            cur.obsolete = cur.obsolete or obsolete
            value = _unquote(m.group(3))
            if kw == "msgctxt":
                cur.msgctxt, field = value, ("msgctxt", None)
            elif kw == "msgid":
                cur.msgid, field = value, ("msgid", None)
            elif kw == "msgid_plural":
                cur.msgid_plural, field = value, ("msgid_plural", None)
            elif kw == "msgstr":
                cur.msgstr, field = value, ("msgstr", None)
            else:
                n = int(m.group(2))
                cur.msgstr_plural[n] = value
                field = ("msgstr_plural", n)
            continue
        if line.startswith('"') and cur is not None and field is not None:
            value = _unquote(line)
            name, n = field
            if name == "msgstr_plural":
                cur.msgstr_plural[n] += value
            else:
                setattr(cur, name, getattr(cur, name) + value)
            continue
        raise ValueError(f"{path}: cannot parse line {raw!r}")
    flush()
    return entries


def _quote(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    parts = s.split("\n")
    lines = [p + "\\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if len(lines) <= 1:
        return f'"{lines[0] if lines else ""}"'
    return '""\n' + "\n".join(f'"{p}"' for p in lines)


def format_po(entries):
    out = []
    for e in entries:
        block = list(e.comments)
        if e.flags:
            block.append("#, " + ", ".join(dict.fromkeys(e.flags)))
        if e.msgctxt is not None:
            block.append("msgctxt " + _quote(e.msgctxt))
        block.append("msgid " + _quote(e.msgid))
        if e.msgid_plural is not None:
            block.append("msgid_plural " + _quote(e.msgid_plural))
            for n in sorted(e.msgstr_plural or {0: ""}):
                block.append(f"msgstr[{n}] " + _quote((e.msgstr_plural or {0: ""})[n]))
        else:
            block.append("msgstr " + _quote(e.msgstr))
        if e.obsolete:
            block = [b if b.startswith("#") else "#~ " + b.replace("\n", "\n#~ ") for b in block]
        out.append("\n".join(block))
    return "\n\n".join(out) + "\n"


def write_po(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po(entries), encoding="utf-8")
    # Normalise the layout exactly as gettext would write it (keeps later diffs small); also validates.
    subprocess.run(["msgcat", "--use-first", "-o", str(path), str(path)], check=True)


def set_header(header, language):
    fields = {}
    order = []
    for line in header.msgstr.split("\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
            order.append(k.strip())
    fields.update(
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
    for k in fields:
        if k not in order:
            order.append(k)
    header.msgstr = "".join(f"{k}: {fields[k]}\n" for k in order)
    header.flags = [f for f in header.flags if f != "fuzzy"]
    header.comments = [
        "# Chinese catalogue of aidtracker, including the strings of django-import-export, django-filter,",
        "# django-simple-history and django-axes. Maintained with tools/i18n_merge.py.",
        "#",
    ]


# --- placeholders -------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[^{}]*\}"
)


def placeholders(text):
    return sorted(p for p in _PLACEHOLDER.findall(text) if p != "%%")


def placeholders_ok(entry, text):
    """The translation keeps the placeholders. With nplurals=1 the one plural form serves every count,
    so it must keep those of msgid_plural (gettext checks msgstr[0] against msgid_plural too)."""
    source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
    return placeholders(source) == placeholders(text)


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
                    for e in parse_po(po):
                        if e.msgid and e.translated and not e.obsolete:
                            shipped[e.key] = e.text
            for e in parse_po(pot)[1:]:
                e.comments = [f"#. {lib}"]
                e.flags = [f for f in e.flags if f != "fuzzy"]
                e.clear()
                if e.key in result:
                    continue
                e.shipped = shipped.get(e.key, "")
                result[e.key] = e
    return result


def django_catalogue(lang):
    """msgid -> msgstr of Django's own catalogues (core and contrib) for one language."""
    sp = site_packages()
    memory = {}
    for po in sorted(
        glob.glob(str(sp / "django" / "**" / "locale" / lang / "LC_MESSAGES" / "django.po"), recursive=True)
    ):
        for e in parse_po(po):
            if e.msgid and e.translated and not e.obsolete:
                memory.setdefault(e.key, e.text)
    return memory


# --- commands -----------------------------------------------------------------------------------------


def load(path):
    entries = parse_po(path)
    return entries[0], entries[1:]


def update(args):
    previous = {}
    if HANS_PO.exists():
        for e in parse_po(HANS_PO)[1:]:
            if e.translated and not e.obsolete:
                previous[e.key] = e.text
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
    header, entries = load(HANS_PO)
    entries = [e for e in entries if not e.obsolete]
    keys = {e.key for e in entries}
    for key, e in library_entries().items():
        if key not in keys:
            entries.append(e)
            keys.add(key)
    memory = strings_txt()
    conflicts = []
    for e in entries:
        if "fuzzy" in e.flags:  # a msgmerge guess, never a translation
            e.clear()
        e.flags = [f for f in e.flags if f != "fuzzy"]
        e.comments = [c for c in e.comments if not c.startswith("#|")]
        candidates = []
        if e.msgctxt is None:
            for english in (e.msgid_plural, e.msgid):
                if english in memory:
                    candidates.append(memory[english])
        if e.key in previous:
            candidates.append(previous[e.key])
        if getattr(e, "shipped", ""):
            candidates.append(e.shipped)
        for c in candidates:
            if not placeholders_ok(e, c):
                print(f"placeholders differ, not used: {e.msgid!r} -> {c!r}")
        candidates = [c for c in candidates if placeholders_ok(e, c)]
        if candidates:
            if e.key in previous and candidates[0] != previous[e.key]:
                conflicts.append((e.msgid, previous[e.key], candidates[0]))
            e.set_text(candidates[0])
        else:
            e.clear()
    set_header(header, "zh_Hans")
    write_po(HANS_PO, [header] + entries)
    for msgid, old, new in conflicts:
        print(f"strings.txt overrides {msgid!r}: {old!r} -> {new!r}")
    hant(args)


def hant(args):
    header, entries = load(HANS_PO)
    opencc_python = args.opencc_python or os.environ.get("I18N_OPENCC_PYTHON", "/tmp/i18nvenv/bin/python")
    texts = [e.text for e in entries]
    script = (
        "import json, sys, opencc\n"
        "c = opencc.OpenCC('s2tw')\n"
        "print(json.dumps([c.convert(t) for t in json.load(sys.stdin)], ensure_ascii=False))\n"
    )
    out = subprocess.run(
        [opencc_python, "-c", script], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    converted = json.loads(out.stdout)
    django_hans, django_hant = django_catalogue("zh_Hans"), django_catalogue("zh_Hant")
    for e, text in zip(entries, converted, strict=True):
        if e.key in django_hant and django_hans.get(e.key) == e.text and e.text:
            text = django_hant[e.key]
        for wrong, right in HANT_FIXES.items():
            text = text.replace(wrong, right)
        if e.text:
            e.set_text(text)
    set_header(header, "zh_Hant")
    write_po(HANT_PO, [header] + entries)
    compile_all()
    stats(args)


# Words OpenCC's character conversion gets wrong or that read oddly in Traditional Chinese.
HANT_FIXES = {"後臺": "後台", "賬號": "帳號", "賬戶": "帳戶"}


def compile_all():
    for po in (HANS_PO, HANT_PO):
        run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)])


def stats(args=None):
    for po in (HANS_PO, HANT_PO):
        if not po.exists():
            continue
        entries = parse_po(po)[1:]
        live = [e for e in entries if not e.obsolete]
        done = sum(e.translated for e in live)
        fuzzy = sum("fuzzy" in e.flags for e in live)
        print(f"{po.relative_to(BASE)}: {done} translated, {len(live) - done} untranslated, {fuzzy} fuzzy")


def todo(args):
    _, entries = load(HANS_PO)
    missing = {e.key: "" for e in entries if not e.translated and not e.obsolete}
    text = json.dumps(missing, ensure_ascii=False, indent=1)
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"{len(missing)} untranslated entries written to {args.file}")
    else:
        print(text)


def apply(args):
    translations = json.loads(Path(args.file).read_text(encoding="utf-8"))
    header, entries = load(HANS_PO)
    by_key = {e.key: e for e in entries}
    bad = []
    for key, text in translations.items():
        if not text:
            continue
        e = by_key.get(key)
        if e is None:
            print(f"not in the catalogue (skipped): {key!r}")
            continue
        if not placeholders_ok(e, text):
            bad.append((key, text))
            continue
        e.set_text(text)
    for key, text in bad:
        print(f"placeholders differ (skipped): {key!r} -> {text!r}")
    write_po(HANS_PO, [header] + entries)
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
