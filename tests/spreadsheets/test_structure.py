"""The engine's place in the project: its own app, ahead of the library it replaces, known by no app."""

import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_comes_before_import_export_so_its_commands_are_the_ones_run():
    apps = settings.INSTALLED_APPS
    assert apps.index("spreadsheets") < apps.index("import_export")
    commands = get_commands()
    assert commands["import"] == "spreadsheets"
    assert commands["export"] == "spreadsheets"
    assert commands["import_workbook"] == "spreadsheets"


def test_agreements_never_reaches_into_projects():
    pattern = re.compile(r"""\bprojects\.|from projects\b|import projects\b|get_model\(\s*["']projects""")
    offenders = []
    for path in (ROOT / "agreements").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if pattern.search(code) or re.search(r"""["']projects_""", code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_engine_knows_no_app():
    for path in (ROOT / "spreadsheets").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (agreements|projects)\b", text, re.M), path


def test_no_module_of_the_engine_or_its_importers_is_over_600_lines():
    paths = [
        *(ROOT / "spreadsheets").rglob("*.py"),
        ROOT / "agreements/importers.py",
        ROOT / "projects/importers.py",
    ]
    long = {str(p.relative_to(ROOT)): n for p in paths if (n := len(p.read_text().splitlines())) > 600}
    assert long == {}


def test_the_importers_are_registered_in_dependency_order():
    from spreadsheets import registry

    assert [cls.sheet_title() for cls in registry.importer_classes()][:4] == [
        "协议",
        "项目",
        "资金拨付",
        "建设成果",
    ]
