"""The Chinese catalogues are complete, compiled, and used: the interface speaks zh-hans by default.

The .po files are parsed here with a few lines of Python (polib is not a dependency): every entry is
translated, nothing is fuzzy, no msgid is repeated, placeholders survive, and the committed .mo holds
exactly what the .po says. Our catalogue must also carry the strings of the libraries whose own zh-hans
catalogue is missing or incomplete (django-filter ships only zh_CN; django-import-export's zh_Hans is
outdated; django-axes has none).
"""

import gettext as gnu_gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUES = {
    "zh_Hans": LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po",
    "zh_Hant": LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po",
}
SITE_PACKAGES = Path(translation.__file__).resolve().parents[3]
# Catalogues that list every msgid of a library (the language does not matter: only msgids are read).
LIBRARY_CATALOGUES = [
    "import_export/locale/zh_Hans/LC_MESSAGES/django.po",
    "django_filters/locale/zh_CN/LC_MESSAGES/django.po",
    "simple_history/locale/zh_Hans/LC_MESSAGES/django.po",
    "axes/locale/de/LC_MESSAGES/django.po",
]
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[^{}]*\}")


def _unquote(text):
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text[1:-1]
    )


def parse_po(path):
    """Entries as dicts: msgctxt, msgid, msgid_plural, msgstr (list), flags, obsolete."""
    entries, entry, field = [], None, None
    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line.strip():
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}, "obsolete": False}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        entry["obsolete"] = entry["obsolete"] or obsolete
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            field = match.group(1)
            value = _unquote(match.group(3))
            if field.startswith("msgstr"):
                field = ("msgstr", int(match.group(2) or 0))
                entry["msgstr"][field[1]] = value
            else:
                entry[field] = value
        elif line.startswith('"'):
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field] += _unquote(line)
        else:
            raise AssertionError(f"{path}: unexpected line {line!r}")
    return entries


def key(entry):
    return (entry.get("msgctxt"), entry["msgid"])


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module", params=sorted(CATALOGUES))
def catalogue(request):
    return request.param, parse_po(CATALOGUES[request.param])


def test_every_message_is_translated_and_none_is_fuzzy(catalogue):
    language, entries = catalogue
    header, messages = entries[0], [e for e in entries[1:] if not e["obsolete"]]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert f"Language: {language}" in header["msgstr"][0]
    assert len(messages) > 300
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    # nplurals=1: exactly one form per plural entry.
    assert all(list(e["msgstr"]) == [0] for e in messages)


def test_no_msgid_is_repeated_within_its_context(catalogue):
    _, entries = catalogue
    keys = [key(e) for e in entries[1:] if not e["obsolete"]]
    assert len(keys) == len(set(keys))


def test_placeholders_are_kept(catalogue):
    _, entries = catalogue
    wrong = []
    for e in entries[1:]:
        sources = [e["msgid"]] + ([e["msgid_plural"]] if "msgid_plural" in e else [])
        for text in e["msgstr"].values():
            if all(placeholders(text) != placeholders(source) for source in sources):
                wrong.append((e["msgid"], text))
    assert wrong == []


def test_translations_are_chinese(catalogue):
    _, entries = catalogue
    not_chinese = [
        e["msgid"]
        for e in entries[1:]
        if e["msgid"] and not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(e["msgstr"].values()))
    ]
    # A handful are technical words that stay as they are.
    assert set(not_chinese) <= {"HTTP Accept"}


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    language, entries = catalogue
    with open(CATALOGUES[language].with_suffix(".mo"), "rb") as fh:
        compiled = gnu_gettext.GNUTranslations(fh)._catalog
    expected = {}
    for e in entries[1:]:
        if e["obsolete"]:
            continue
        msgid = e["msgid"] if e.get("msgctxt") is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            for n, text in e["msgstr"].items():
                expected[(msgid, n)] = text
        else:
            expected[msgid] = e["msgstr"][0]
    compiled = {k: v for k, v in compiled.items() if k != ""}
    assert compiled == expected, "recompile: manage.py compilemessages -l zh_Hans -l zh_Hant"


@pytest.mark.parametrize("library", LIBRARY_CATALOGUES)
def test_library_strings_are_in_our_catalogue(catalogue, library):
    _, entries = catalogue
    ours = {key(e) for e in entries[1:] if not e["obsolete"]}
    theirs = {key(e) for e in parse_po(SITE_PACKAGES / library)[1:] if not e["obsolete"]}
    assert theirs, library
    assert theirs - ours == set()


def test_key_strings_translate_to_simplified_chinese():
    from django.utils.translation import gettext, ngettext
    from django_filters import OrderingFilter
    from django_filters.conf import settings as filter_settings
    from import_export.forms import ImportForm

    from agreements.models import Agreement, RecipientUnit
    from projects.models import Disbursement, FacilityOutput, Project

    with translation.override("zh-hans"):
        assert gettext("aid project") == "援助项目"
        assert gettext("aid agreement") == "援疆协议"
        assert str(Project._meta.verbose_name) == "援助项目"
        assert str(Agreement._meta.verbose_name) == "援疆协议"
        assert str(Disbursement._meta.verbose_name) == "资金拨付"
        assert str(FacilityOutput._meta.verbose_name) == "建设成果"
        assert str(RecipientUnit._meta.verbose_name) == "受援单位"
        assert Project.Status.PLANNED.label == "计划中"
        assert Project.Status.IN_PROGRESS.label == "实施中"
        assert Project.Status.COMPLETED.label == "已完成"
        assert Project.Status.CANCELLED.label == "已取消"
        assert Agreement.Status.DRAFT.label == "草拟"
        assert Agreement.Status.SIGNED.label == "已签订"
        assert Agreement.Status.COMPLETED.label == "已完成"
        assert Agreement.Status.TERMINATED.label == "已终止"
        assert gettext("10,000 yuan") == "万元"
        # django-import-export
        assert gettext("Import") == "导入"
        assert gettext("Export") == "导出"
        assert gettext("Confirm import") == "确认导入"
        assert str(ImportForm.base_fields["import_file"].label) == "要导入的文件"
        assert ngettext("Export %(len)s selected item.", "Export %(len)s selected items.", 3) % {
            "len": 3
        } == ("导出所选的 3 项")
        # django-filter (its own catalogue is zh_CN, which zh-hans never loads)
        assert str(filter_settings.VERBOSE_LOOKUPS["gt"]) == "大于"
        assert gettext("Multiple values may be separated by commas.") == "多个值之间可以用逗号分隔。"
        ordering = OrderingFilter(fields=(("code", "code"),), field_labels={"code": "代码"})
        assert ("-code", "代码（降序）") in list(ordering.field.choices)
        # django-simple-history and django-axes
        assert gettext("Change reason") == "修改原因"
        assert gettext("access attempts") == "访问尝试"

    with translation.override("zh-hant"):
        assert gettext("aid project") == "援助項目"
        assert Agreement.Status.SIGNED.label == "已簽訂"
        assert gettext("Import") == "導入"

    with translation.override("en"):
        assert gettext("aid project") == "aid project"


def test_chinese_is_the_default_language():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "zh-hant", "en"]


def test_admin_index_renders_in_simplified_chinese(client, national):
    client.force_login(national)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    for text in (
        "站点管理",
        "援疆协议",
        "援助项目",
        "资金拨付",
        "建设成果",
        "受援单位",
        "援助省市",
        "项目类别",
    ):
        assert text in html, text
    for english in ("Site administration", "Aid agreements", "Aid projects", "Disbursements", "Log out"):
        assert english not in html, english


def test_admin_index_follows_the_browser_to_traditional_chinese(client, national):
    client.force_login(national)
    response = client.get(reverse("admin:index"), headers={"accept-language": "zh-hant"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hant"' in html
    assert "援疆協議" in html and "援助項目" in html
