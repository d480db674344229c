"""Crawl the admin and the dashboards as a user would, and list every English word a person could meet —
on screen or read out by a screen reader (alt, title, aria-label, placeholder, button values, hidden text).

A word is "data" when it is a value the programme stored (a code, a username, a file name): those are
collected from the database and allowed, with a few fixed technical names (xlsx, JSON, the product's name).
"""

import re
from html.parser import HTMLParser

from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

WORD = re.compile(r"[A-Za-z][A-Za-z']+")
# Names a Chinese interface keeps as they are: file formats, the product, the language chooser's own
# "English", units of size; XX, the fictitious province of example codes (XX-2021-01-001).
ALLOWED = {
    "aidtracker",
    "xlsx",
    "csv",
    "CSV",
    "JSON",
    "Excel",
    "English",
    "PDF",
    "MB",
    "KB",
    "ID",
    "IP",
    "BOM",
    "UTF",
    "GBK",
    "GB",
    "T",
    "XX",
}
# Stored codes the pages show by their Chinese name, never as they are stored.
SHOWN_BY_NAME = {("spreadsheets.ImportRecord", "target")}
SPOKEN = ("alt", "title", "aria-label", "placeholder")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "svg", "template"):
            self._skip += 1
        for name in SPOKEN:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "svg", "template"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable_text(html):
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_words(html, data_words=frozenset()):
    text = readable_text(html)
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED and w not in data_words})


def data_words():
    """Every word that appears in a stored value the pages may show (codes, usernames, file names, the
    algorithm and salt of a password hash, …); permission names are stored in English but shown translated."""
    from django.apps import apps

    words = set()
    for model in apps.get_models():
        if model._meta.label in ("auth.Permission", "contenttypes.ContentType", "admin.LogEntry"):
            continue
        for field in model._meta.concrete_fields:
            if field.get_internal_type() in (
                "CharField",
                "TextField",
                "EmailField",
                "FileField",
                "SlugField",
            ):
                if field.choices or (model._meta.label, field.name) in SHOWN_BY_NAME:
                    continue
                for value in model._default_manager.values_list(field.attname, flat=True)[:2000]:
                    found = WORD.findall(str(value or ""))
                    if field.name in ("password", "sha256"):  # pages show their first characters only
                        found = [word[:n] for word in found for n in range(1, len(word) + 1)]
                    words.update(found)
    return words


def admin_urls(user):
    """Every admin page the user may open: index, app pages, and per model the changelist, add form,
    the first object's change, history and delete pages; plus the user's own password page."""
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    factory_request = RequestFactory().get("/admin/")
    factory_request.user = user
    apps_seen = set()
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not model_admin.has_view_or_change_permission(factory_request):
            continue
        if opts.app_label not in apps_seen:
            apps_seen.add(opts.app_label)
            urls.append(reverse("admin:app_list", args=[opts.app_label]))
        name = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        urls.append(reverse(f"{name}_changelist") + "?q=zzz-nothing")  # a search that finds nothing
        if model_admin.has_add_permission(factory_request):
            urls.append(reverse(f"{name}_add"))
        obj = model_admin.get_queryset(factory_request).order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"{name}_change", args=[obj.pk]))
            urls.append(reverse(f"{name}_history", args=[obj.pk]))
            if model_admin.has_delete_permission(factory_request, obj):
                urls.append(reverse(f"{name}_delete", args=[obj.pk]))
            history = getattr(model, "history", None)
            record = history.filter(**{opts.pk.attname: obj.pk}).first() if history is not None else None
            if record is not None:
                urls.append(reverse(f"{name}_simple_history", args=[obj.pk, record.history_id]))
            if model is User and model_admin.has_change_permission(factory_request, obj):
                urls.append(reverse("admin:auth_user_password_change", args=[obj.pk]))
        for extra in ("import", "template"):
            try:
                url = reverse(f"{name}_{extra}")
            except NoReverseMatch:
                continue
            if extra == "import":
                urls.append(url)
    return urls
