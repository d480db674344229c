"""Spreadsheet import and export in the admin: upload → preview → confirm, error report, export, template.

`SpreadsheetAdminMixin` goes first in the bases of the Agreement, Project, Disbursement and FacilityOutput
admins. It adds to the changelist:

- import: the upload is read, parsed and validated once (`spreadsheets.services.preview_import`); the
  preview shows the counts, every error and the first 100 rows, and keeps the normalised rows in the
  ImportRecord, so the confirm (on any app server) writes without parsing the file again;
- the error report: the uploaded sheet with an error column;
- export of the filtered changelist (xlsx, csv), with the import's columns, formula-safe;
- a template: the headers, an example row, drop-down lists on the code and status columns and a sheet of
  valid codes.

Permissions are the model's `import_<model>` and `export_<model>`; the rows are always those of the
admin's scoped queryset. ImportRecordAdmin lists the imports (each user sees their own; the national office
all of them).
"""

from urllib.parse import quote

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from spreadsheets import registry
from spreadsheets.importer import ImportContext
from spreadsheets.models import ImportRecord
from spreadsheets.reading import max_bytes, max_rows, size_limit_text
from spreadsheets.services import cancel_import, confirm_import, error_report, preview_import
from spreadsheets.writing import column_help, template_workbook, write_csv, write_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class SpreadsheetAdminMixin:
    """Import (preview, confirm, error report), export and template download for a model admin."""

    change_list_template = "admin/spreadsheets/change_list.html"

    @property
    def importer(self):
        return registry.importer_for_model(self.model)

    # -- permissions --------------------------------------------------------------------------------

    def _perm(self, action):
        opts = self.model._meta
        return f"{opts.app_label}.{action}_{opts.model_name}"

    def has_import_permission(self, request):
        return request.user.has_perm(self._perm("import"))

    def has_export_permission(self, request):
        return request.user.has_perm(self._perm("export"))

    def _url_name(self, action):
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_{action}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        urls = [
            path("import/", wrap(self.import_view), name=self._url_name("import")),
            path("import/<int:pk>/", wrap(self.import_preview_view), name=self._url_name("import_preview")),
            path(
                "import/<int:pk>/errors.xlsx",
                wrap(self.import_errors_view),
                name=self._url_name("import_errors"),
            ),
            path("export/<str:fmt>/", wrap(self.export_view), name=self._url_name("export")),
            path("template.xlsx", wrap(self.template_view), name=self._url_name("template")),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context.update(
            {
                "has_import_permission": self.has_import_permission(request),
                "has_export_permission": self.has_export_permission(request),
                "import_url": reverse(f"admin:{self._url_name('import')}"),
                "template_url": reverse(f"admin:{self._url_name('template')}"),
                "export_xlsx_url": reverse(f"admin:{self._url_name('export')}", args=["xlsx"]),
                "export_csv_url": reverse(f"admin:{self._url_name('export')}", args=["csv"]),
            }
        )
        return super().changelist_view(request, extra_context)

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "changelist_url": reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"
            ),
            "import_url": reverse(f"admin:{self._url_name('import')}"),
            "template_url": reverse(f"admin:{self._url_name('template')}"),
            "sheet_title": self.importer.sheet_title(),
            "headers": self.importer.headers(),
            "column_help": [(column.header, text) for column, text in column_help(self.importer)],
            **extra,
        }

    # -- import -------------------------------------------------------------------------------------

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            upload = request.FILES.get("import_file")
            if upload is None:
                error = _("Choose a file to import.")
            elif upload.size > max_bytes():
                error = _("The file is larger than the limit of %(limit)s.") % {"limit": size_limit_text()}
            else:
                record = preview_import(
                    upload.read(),
                    upload.name,
                    request.user,
                    importers=[self.importer],
                    source=ImportRecord.Source.ADMIN,
                    target=self.importer.label(),
                )
                return HttpResponseRedirect(
                    reverse(f"admin:{self._url_name('import_preview')}", args=[record.pk])
                )
        context = self._context(
            request,
            _("Import %(name)s") % {"name": self.model._meta.verbose_name_plural},
            error=error,
            max_size=size_limit_text(),
            max_rows=max_rows(),
        )
        return TemplateResponse(request, "admin/spreadsheets/import.html", context)

    def _record(self, request, pk):
        """An import of this model the user ran (the national office sees every one); else 404."""
        # The file and the staged rows (megabytes each) are read only by what needs them.
        records = (
            ImportRecord.objects.filter(target=self.importer.label())
            .defer("file", "staged")
            .annotate(has_staged=ExpressionWrapper(Q(staged__isnull=False), output_field=BooleanField()))
        )
        if not registry.access("sees_everything")(request.user):
            records = records.filter(user=request.user)
        return get_object_or_404(records, pk=pk)

    def import_preview_view(self, request, pk):
        if not self.has_import_permission(request):
            raise PermissionDenied
        record = self._record(request, pk)
        if request.method == "POST":
            if "cancel" in request.POST and cancel_import(record):
                messages.info(request, _("The import was cancelled; nothing was written."))
                return HttpResponseRedirect(self._context(request, "")["changelist_url"])
            if record.outcome != ImportRecord.Outcome.PREVIEWED or not record.has_staged:
                messages.error(request, _("This import cannot be confirmed."))
                return HttpResponseRedirect(request.path)
            record, outcome = confirm_import(record, request.user)
            if outcome is not None and outcome.written:
                totals = record.totals()
                messages.success(
                    request,
                    _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.") % totals,
                )
                return HttpResponseRedirect(self._context(request, "")["changelist_url"])
            messages.error(request, record.message)
            return HttpResponseRedirect(request.path)
        headers = self.importer.headers()
        context = self._context(
            request,
            _("Import %(name)s: preview") % {"name": self.model._meta.verbose_name_plural},
            record=record,
            totals=record.totals(),
            can_confirm=record.outcome == ImportRecord.Outcome.PREVIEWED and record.has_staged,
            preview_headers=headers,
            preview_rows=record.preview,
            errors_url=reverse(f"admin:{self._url_name('import_errors')}", args=[record.pk]),
            action_labels={
                "new": _("new"),
                "updated": _("updated"),
                "unchanged": _("unchanged"),
                "error": _("error"),
            },
        )
        return TemplateResponse(request, "admin/spreadsheets/preview.html", context)

    def import_errors_view(self, request, pk):
        if not self.has_import_permission(request):
            raise PermissionDenied
        record = self._record(request, pk)
        if not record.errors or not record.file:
            raise Http404
        stem = record.file_name.rsplit(".", 1)[0]
        return attachment(error_report(record), f"{stem}-错误.xlsx", XLSX_TYPE)

    # -- export -------------------------------------------------------------------------------------

    def export_view(self, request, fmt):
        if not self.has_export_permission(request) or fmt not in ("xlsx", "csv"):
            raise PermissionDenied
        # The changelist's own queryset: its filters, search and the user's scope.
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        importer = self.importer(ImportContext(request.user))
        rows = importer.export_rows(queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"{importer.sheet_title()}-{stamp}.{fmt}"
        if fmt == "csv":
            return attachment(write_csv(importer.headers(), rows), name, "text/csv; charset=utf-8")
        return attachment(write_xlsx([(importer.sheet_title(), importer.headers(), rows)]), name, XLSX_TYPE)

    # -- template -----------------------------------------------------------------------------------

    def template_view(self, request):
        if not (self.has_import_permission(request) or self.has_export_permission(request)):
            raise PermissionDenied
        content = build_template(self.importer, request.user)
        return attachment(content, f"{self.importer.sheet_title()}-模板.xlsx", XLSX_TYPE)


def reference_lists(importer, user):
    """The valid values per column of the template: [(code, name)] lists."""
    lists = {}
    extra = getattr(importer, "template_lists", None)
    if extra:
        lists.update(extra(user))
    if importer.choices:
        lists["status"] = [(labels[0], value) for value, labels in importer.choices.items()]
    return lists


def build_template(importer, user) -> bytes:
    """The import template of a sheet (see `spreadsheets.writing.template_workbook`)."""
    return template_workbook(importer, reference_lists(importer, user))


class TargetFilter(admin.SimpleListFilter):
    """What the files were imported into, by its Chinese name."""

    title = gettext_lazy("imported into")
    parameter_name = "target"

    def lookups(self, request, model_admin):
        targets = model_admin.get_queryset(request).order_by().values_list("target", flat=True).distinct()
        return sorted(((t, ImportRecord.target_name(t)) for t in targets), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(target=value)


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    """Every import, read-only: who, when, which file (and its checksum), counts per sheet, outcome."""

    list_display = [
        "created_at",
        "user",
        "source",
        "target_display",
        "file_name",
        "outcome",
        "totals_display",
        "error_count",
    ]
    list_filter = ["outcome", "source", TargetFilter]
    list_select_related = ["user"]
    search_fields = ["file_name", "sha256", "user__username"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "created_at",
        "finished_at",
        "user",
        "source",
        "target_display",
        "file_name",
        "file_size",
        "sha256",
        "outcome",
        "message",
        "counts_display",
        "errors_display",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The heavy columns (the file, the staged rows) are never needed by these pages.
        queryset = super().get_queryset(request).defer("file", "staged", "preview")
        if registry.access("sees_everything")(request.user):
            return queryset
        return queryset.filter(user=request.user)

    def _may_import(self, request):
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (
                registry.access("sees_everything")(user)
                or any(perm.split(".", 1)[1].startswith("import_") for perm in user.get_all_permissions())
            )
        )

    def has_module_permission(self, request):
        return self._may_import(request)

    def has_view_permission(self, request, obj=None):
        return self._may_import(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=gettext_lazy("imported into"), ordering="target")
    def target_display(self, obj):
        return ImportRecord.target_name(obj.target)

    @admin.display(description=gettext_lazy("counts per sheet"))
    def counts_display(self, obj):
        return "\n".join(obj.counts_lines()) or "—"

    @admin.display(description=gettext_lazy("new / updated / unchanged"))
    def totals_display(self, obj):
        totals = obj.totals()
        return f"{totals['new']} / {totals['updated']} / {totals['unchanged']}"

    @admin.display(description=gettext_lazy("errors"))
    def error_count(self, obj):
        return len(obj.errors or [])

    @admin.display(description=gettext_lazy("errors"))
    def errors_display(self, obj):
        lines = [
            _("%(sheet)s row %(row)s, column %(column)s, value “%(value)s”: %(message)s") % error
            for error in (obj.errors or [])[:1000]
        ]
        return "\n".join(lines) or "—"
