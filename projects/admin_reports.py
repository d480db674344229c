"""The reporting cycle in the admin: progress reports with their photos, the review queue and its bulk
actions, and closed quarters. Every decision is the services' (projects.services); this module shows the
forms and buttons those rules allow and turns their refusals into form errors and messages."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from agreements.admin_scope import ScopedAdminMixin
from agreements.widgets import ScopedFileInput
from aidtracker.history import ReadableHistoryAdmin
from aidtracker.versioning_admin import VERSION_PREFIX, VersionedAdminMixin
from projects import photos, services
from projects.admin_filters import ProvinceFilter, RecipientFilter
from projects.models import ClosedPeriod, ProgressReport, ReportPhoto
from spreadsheets.admin import SpreadsheetAdminMixin

Status = ProgressReport.Status
ACTIONS = ("_submit", "_approve", "_return")
PHOTO_REQUEST_MAX_BYTES = photos.MAX_PHOTOS * photos.MAX_BYTES + 2 * 1024 * 1024


def action_of(data) -> str | None:
    """Which of the report's own buttons a POST pressed, if any."""
    return next((name for name in ACTIONS if name in data), None)


def with_request_limit(view, limit):
    """Mark a view as taking request bodies up to `limit` bytes (read by RequestSizeLimitMiddleware)."""
    view.request_max_bytes = limit
    return view


# --- Photos ---------------------------------------------------------------------------------------------


class ReportPhotoForm(forms.ModelForm):
    """A photo row: a new upload is checked, cleaned and resized here, before anything is stored."""

    class Meta:
        model = ReportPhoto
        fields = ["image", "caption"]
        widgets = {
            "image": ScopedFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}, field_name="image")
        }

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if isinstance(upload, UploadedFile):
            image, thumbnail = photos.process_photo(upload)
            self._thumbnail = thumbnail
            return image
        return upload

    def save(self, commit=True):
        thumbnail = getattr(self, "_thumbnail", None)
        if thumbnail is not None:
            self.instance.thumbnail = thumbnail
        return super().save(commit)


class ReportPhotoInline(admin.TabularInline):
    model = ReportPhoto
    form = ReportPhotoForm
    fields = ["preview", "image", "caption"]
    readonly_fields = ["preview", "photo_file"]
    extra = 1
    max_num = photos.MAX_PHOTOS

    def get_formset(self, request, obj=None, **kwargs):
        # At most nine photos, checked on the server; a read-only inline (max_num 0) is not validated.
        kwargs["validate_max"] = self._editable(request, obj)
        return super().get_formset(request, obj, **kwargs)

    def _editable(self, request, obj):
        if obj is None:
            return services.may_author(request.user, None)
        return services.content_editable(user=request.user, report=obj)

    def get_fields(self, request, obj=None):
        # Read only, the admin would link the file to its storage URL, which is never served: the scoped
        # file view serves it, to those who may see the report.
        if self._editable(request, obj):
            return self.fields
        return ["preview", "photo_file", "caption"]

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, photo):
        if not photo.pk or not photo.thumbnail:
            return "-"
        return format_html(
            '<a href="{}"><img src="{}" alt="{}" class="report-thumbnail"></a>',
            scoped_photo_url(photo),
            scoped_photo_url(photo, "thumbnail"),
            photo,
        )

    @admin.display(description=gettext_lazy("photo"))
    def photo_file(self, photo):
        if not photo.pk or not photo.image:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', scoped_photo_url(photo), photo.image.name.rsplit("/", 1)[-1]
        )


def scoped_photo_url(photo, field="image"):
    return reverse("agreements:scoped_file", args=["projects", "reportphoto", photo.pk, field])


# --- Reports --------------------------------------------------------------------------------------------


class ProgressReportForm(forms.ModelForm):
    """The report form; `user` is set by the admin. Checks the button pressed against the services' rules,
    so a refusal is a form error and nothing is written."""

    user = None

    class Meta:
        model = ProgressReport
        fields = ["project", "year", "quarter", "percent_complete", "narrative", "review_note"]
        widgets = {"narrative": forms.Textarea(attrs={"rows": 8, "maxlength": 5000})}

    def clean(self):
        cleaned = super().clean()
        report, user = self.instance, self.user
        action = action_of(self.data)
        # A stale version is refused by the no-lost-edits check of the form (VersionedFormMixin), which
        # shows what the other person changed; here, what the button pressed may do to the stored report.
        stored = ProgressReport.objects.select_related("project").get(pk=report.pk) if report.pk else None
        if action in ("_approve", "_return"):
            self._check_decision(stored, action, cleaned)
        else:
            if stored is not None and not services.content_editable(user=user, report=stored):
                raise ValidationError(_("This report can no longer be changed."), code="read_only")
            periods = [(cleaned.get("year"), cleaned.get("quarter"))]
            if stored is not None:
                periods.append((stored.year, stored.quarter))
            services.check_open_quarters(user=user, periods=[p for p in periods if None not in p])
        return cleaned

    def _check_decision(self, stored, action, cleaned):
        if stored is None:
            raise ValidationError(_("Save the report before it is reviewed."), code="not_saved")
        if services.wrote(self.user, stored):
            raise ValidationError(
                _("You wrote or submitted this report: another reviewer must decide on it."),
                code="own_report",
            )
        allowed = services.may_decide(user=self.user, report=stored) or (
            action == "_return" and services.may_reopen(user=self.user, report=stored)
        )
        if not allowed:
            raise ValidationError(
                _("You cannot review this report in its present state."), code="not_allowed"
            )
        if action == "_return" and not (cleaned.get("review_note") or "").strip():
            self.add_error("review_note", _("Say why the report is returned: a note is required."))


class ReportStatusFilter(admin.SimpleListFilter):
    """`?status=submitted` is the review queue."""

    title = gettext_lazy("report status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.filter(status=self.value())
        return queryset


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = model_admin.get_queryset(request).order_by("-year").values_list("year", flat=True).distinct()
        return [(str(y), str(y)) for y in years]

    def queryset(self, request, queryset):
        return queryset.filter(year=self.value()) if (self.value() or "").isdigit() else queryset


class QuarterFilter(admin.SimpleListFilter):
    title = gettext_lazy("quarter")
    parameter_name = "quarter"

    def lookups(self, request, model_admin):
        return [(str(q), str(q)) for q in range(1, 5)]

    def queryset(self, request, queryset):
        return queryset.filter(quarter=self.value()) if self.value() in ("1", "2", "3", "4") else queryset


@admin.register(ProgressReport)
class ProgressReportAdmin(VersionedAdminMixin, SpreadsheetAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    form = ProgressReportForm
    inlines = [ReportPhotoInline]
    change_form_template = "admin/projects/progressreport/change_form.html"
    list_display = [
        "project",
        "province",
        "year",
        "quarter",
        "percent_complete",
        "status",
        "author",
        "submitted_by",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = [ReportStatusFilter, ProvinceFilter, YearFilter, QuarterFilter, RecipientFilter]
    list_select_related = ["project__agreement__province", "author", "submitted_by", "reviewed_by"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["approve_selected", "return_selected"]
    review_fields = ["status", "author", "submitted_by", "reviewed_by", "reviewed_at"]

    @admin.display(description=gettext_lazy("donor province"), ordering="project__agreement__province__order")
    def province(self, obj):
        return obj.project.agreement.province

    def get_urls(self):
        # Nine photos of 10 MB go in one request: these two views, and only they, take bodies that large.
        urls = super().get_urls()
        for pattern in urls:
            if pattern.name in (
                f"{self.opts.app_label}_{self.opts.model_name}_add",
                f"{self.opts.app_label}_{self.opts.model_name}_change",
            ):
                with_request_limit(pattern.callback, PHOTO_REQUEST_MAX_BYTES)
        return urls

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_fields(self, request, obj=None):
        fields = ["project", "year", "quarter", "percent_complete", "narrative"]
        if obj is not None:
            fields += ["review_note", *self.review_fields]
            if self.has_change_permission(request, obj):
                fields.append("version")  # hidden: the version this page was opened with
        return fields

    def get_readonly_fields(self, request, obj=None):
        content = ["project", "year", "quarter", "percent_complete", "narrative"]
        if obj is None:
            return []
        review = [*self.review_fields]
        if services.content_editable(user=request.user, report=obj):
            return ["review_note", *review]
        if services.may_decide(user=request.user, report=obj) or services.may_reopen(
            user=request.user, report=obj
        ):
            return [*content, *review]
        return [*content, "review_note", *review]

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        return (
            services.content_editable(user=request.user, report=obj)
            or services.may_decide(user=request.user, report=obj)
            or services.may_reopen(user=request.user, report=obj)
        )

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or services.content_editable(user=request.user, report=obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        user = request.user
        context.update(
            {
                "can_submit": (obj is None and services.may_author(user, None))
                or (obj is not None and services.may_submit(user=user, report=obj)),
                "can_decide": obj is not None and services.may_decide(user=user, report=obj),
                "can_reopen": obj is not None and services.may_reopen(user=user, report=obj),
                "wrote_it": obj is not None and services.wrote(user, obj),
                "report": obj,
            }
        )
        if obj is not None and not services.content_editable(user=user, report=obj):
            # A reviewer's page: the note and the review buttons, no plain save of the content.
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        action = action_of(request.POST)
        version = form.cleaned_data.get("version")
        note = form.cleaned_data.get("review_note", "")
        if action == "_approve":
            saved = services.approve_report(
                user=request.user, report=obj, note=note, expected_version=version
            )
        elif action == "_return":
            saved = services.return_report(user=request.user, report=obj, note=note, expected_version=version)
        else:
            saved = services.save_report(user=request.user, report=obj, expected_version=version)
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if action_of(request.POST) == "_submit":
            services.submit_report(
                user=request.user, report=form.instance, expected_version=form.instance.version
            )

    def response_add(self, request, obj, post_url_continue=None):
        self._message_for_action(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._message_for_action(request, obj)
        return super().response_change(request, obj)

    def _message_for_action(self, request, obj):
        messages_by_action = {
            "_submit": _("The report was submitted for review."),
            "_approve": _("The report was approved."),
            "_return": _("The report was returned to its author with your note."),
        }
        action = action_of(request.POST)
        if action:
            self.message_user(request, messages_by_action[action], messages.SUCCESS)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = [
            _("%(report)s is %(status)s and cannot be deleted.")
            % {"report": report, "status": report.get_status_display()}
            for report in objs
            if not services.content_editable(user=request.user, report=report)
        ]
        return deleted, counts, perms_needed, [*protected, *refusals]

    # --- Bulk review: an intermediate page lists the rows as they are now, with their versions.

    @admin.action(description=gettext_lazy("Approve the selected reports"), permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._bulk_review(request, queryset, "_approve")

    @admin.action(description=gettext_lazy("Return the selected reports with a note"), permissions=["review"])
    def return_selected(self, request, queryset):
        return self._bulk_review(request, queryset, "_return")

    def has_review_permission(self, request):
        return services.may_review(request.user)

    def _bulk_review(self, request, queryset, action):
        reports = list(queryset.select_related("project__agreement__province", "author", "submitted_by"))
        note = (request.POST.get("review_note") or "").strip()
        error = None
        if request.POST.get("post"):
            if action == "_return" and not note:
                error = _("Say why the reports are returned: a note is required.")
            else:
                self._apply_review(request, reports, action, note)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Approve reports") if action == "_approve" else _("Return reports"),
            "opts": self.opts,
            "reports": reports,
            "action": "approve_selected" if action == "_approve" else "return_selected",
            "is_return": action == "_return",
            "note": note,
            "error": error,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "version_prefix": VERSION_PREFIX,
        }
        return TemplateResponse(request, "admin/projects/progressreport/review_action.html", context)

    def _apply_review(self, request, reports, action, note):
        service = services.approve_report if action == "_approve" else services.return_report
        done, refused = 0, []
        for report in reports:
            try:
                expected = int(request.POST.get(f"{VERSION_PREFIX}{report.pk}", ""))
            except ValueError:
                expected = -1
            try:
                service(user=request.user, report=report, note=note, expected_version=expected)
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else _("Not allowed.")
                refused.append(f"{report}: {reason}")
            else:
                done += 1
        if done:
            text = (
                _("%(count)s reports approved.") if action == "_approve" else _("%(count)s reports returned.")
            )
            self.message_user(request, text % {"count": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)


# --- Closed quarters ------------------------------------------------------------------------------------


class ClosedPeriodForm(forms.ModelForm):
    class Meta:
        model = ClosedPeriod
        fields = ["year", "quarter"]

    def clean(self):
        cleaned = super().clean()
        year, quarter = cleaned.get("year"), cleaned.get("quarter")
        if (
            year
            and quarter
            and ClosedPeriod.objects.filter(year=year, quarter=quarter, reopened_at=None).exists()
        ):
            raise ValidationError(_("This quarter is already closed."), code="closed")
        return cleaned


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(ReadableHistoryAdmin):
    form = ClosedPeriodForm
    list_display = [
        "__str__",
        "year",
        "quarter",
        "state",
        "closed_by",
        "closed_at",
        "reopened_by",
        "reopened_at",
    ]
    list_filter = ["year"]
    list_select_related = ["closed_by", "reopened_by"]
    actions = ["reopen_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["year", "quarter", "closed_by", "closed_at", "reopened_by", "reopened_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["year", "quarter"]
        return ["year", "quarter", "closed_by", "closed_at", "reopened_by", "reopened_at"]

    def has_change_permission(self, request, obj=None):
        # Nothing of a closed quarter is edited; reopening is the action below.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj):
        return _("closed") if obj.is_closed else _("reopened")

    def save_model(self, request, obj, form, change):
        saved = services.close_quarter(user=request.user, year=obj.year, quarter=obj.quarter)
        obj.pk = saved.pk
        obj.closed_by, obj.closed_at = saved.closed_by, saved.closed_at

    @admin.action(description=gettext_lazy("Reopen the selected quarters"), permissions=["reopen"])
    def reopen_selected(self, request, queryset):
        count = 0
        for period in queryset.filter(reopened_at__isnull=True):
            services.reopen_quarter(user=request.user, period=period)
            count += 1
        self.message_user(request, _("%(count)s quarters reopened.") % {"count": count}, messages.SUCCESS)

    def has_reopen_permission(self, request):
        return request.user.has_perm("projects.change_closedperiod")

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and not self.has_reopen_permission(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)
