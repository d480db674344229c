from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects
from django.db import router
from django.db.models import Subquery, Value
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from agreements.admin import AgreementAdmin as BaseAgreementAdmin
from agreements.admin_scope import ScopedAdminMixin
from agreements.forms import WanAmountField
from agreements.models import Agreement
from aidtracker import money
from aidtracker.versioning_admin import VersionedAdminMixin, status_action
from projects import (
    admin_reports,  # noqa: F401  (registers the reporting cycle's admins)
    services,
)
from projects.admin_filters import (
    AsOfFilter,
    CategoryFilter,
    DashboardParametersMixin,
    LiveFilter,
    ProvinceFilter,
    RecipientFilter,
    ReportingDueFilter,
    ReportingStateFilter,
    StartYearFilter,
    StatusFilter,
)
from projects.models import (
    Category,
    Disbursement,
    FacilityOutput,
    FacilityType,
    Project,
    ProjectRollup,
    ReportReminder,
    live,
)
from projects.sums import COUNT, sum_related
from spreadsheets.admin import SpreadsheetAdminMixin


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "order"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]


@admin.register(FacilityType)
class FacilityTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]
    search_fields = ["code", "name"]


class DisbursementForm(forms.ModelForm):
    """A disbursement; `user` is set by the admin, for the closed-quarter guard (old and new date)."""

    amount = WanAmountField(label=_("amount (10,000 yuan)"))
    user = None

    class Meta:
        model = Disbursement
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.has_changed():
            services.check_disbursement_write(
                user=self.user, disbursement=self.instance, new_date=cleaned.get("date")
            )
        return cleaned


def form_for_user(form_class, user):
    """The form class with the requesting user set, for checks that depend on who saves."""
    return type(form_class.__name__, (form_class,), {"user": user})


class ClosedQuarterDeletionMixin:
    """Delete pages (and the bulk delete) refuse what would remove a disbursement or a report of a closed
    quarter, also by cascade (deleting a project deletes its disbursements and reports)."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(list(objs))
        cascaded = [obj for instances in collector.data.values() for obj in instances]
        refusals = services.deletion_refusals(user=request.user, objects=cascaded)
        return deleted, counts, perms_needed, [*protected, *refusals]


class LatestDisbursementsFormSet(BaseInlineFormSet):
    """Only the project's latest disbursements: a project paid in hundreds of instalments would post more
    fields than DATA_UPLOAD_MAX_NUMBER_FIELDS allows. The rest are in the disbursement list (linked above).
    A slice would break the formset's save, so the latest are selected by `pk__in` a sliced subquery."""

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            mine = super().get_queryset()
            latest = mine.order_by("-date", "-pk").values("pk")[: DisbursementInline.shown]
            self._latest = mine.filter(pk__in=Subquery(latest)).order_by("-date", "-pk")
        return self._latest

    def _existing_object(self, pk):
        # A row shown when the page was opened may have left the latest ones since (a newer payment was
        # recorded): it is still this project's, so its edit is saved (or refused if stale), never dropped.
        found = super()._existing_object(pk)
        if found is None:
            found = super().get_queryset().filter(pk=pk).first()
            if found is not None:
                self._object_dict[found.pk] = found
        return found


class DisbursementFormSet(LatestDisbursementsFormSet):
    """Deleting a disbursement row of a closed quarter is refused like changing it."""

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk:
                services.check_disbursement_write(user=form.user, disbursement=form.instance)


class DisbursementInline(admin.TabularInline):
    model = Disbursement
    form = DisbursementForm
    formset = DisbursementFormSet
    extra = 0
    fields = ["date", "amount", "reference"]
    shown = 20

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = form_for_user(formset.form, request.user)
        return formset


class FacilityOutputInline(admin.TabularInline):
    model = FacilityOutput
    extra = 0
    fields = ["facility_type", "quantity"]


class ProjectForm(forms.ModelForm):
    budget = WanAmountField(label=_("aid amount (10,000 yuan)"))

    class Meta:
        model = Project
        fields = "__all__"


# The dashboard's parameters as changelist filters, shared by every list whose rows are projects or theirs.
DASHBOARD_FILTERS = [
    ProvinceFilter,
    CategoryFilter,
    StatusFilter,
    LiveFilter,
    RecipientFilter,
    StartYearFilter,
    AsOfFilter,
]


@admin.register(Project)
class ProjectAdmin(
    VersionedAdminMixin,
    ClosedQuarterDeletionMixin,
    DashboardParametersMixin,
    SpreadsheetAdminMixin,
    ScopedAdminMixin,
    SimpleHistoryAdmin,
):
    form = ProjectForm
    actions = [status_action(description=_("Change the status of the selected projects"))]
    list_display = [
        "code",
        "name",
        "province",
        "category",
        "recipient",
        "status",
        "budget_wan",
        "disbursed_wan",
        "execution_rate",
        "beneficiaries",
        "start_date",
    ]
    list_filter = [*DASHBOARD_FILTERS, ReportingDueFilter, ReportingStateFilter]
    list_select_related = ["agreement__province", "category", "recipient"]
    search_fields = ["code", "name", "agreement__code"]
    autocomplete_fields = ["agreement", "recipient", "category"]
    inlines = [DisbursementInline, FacilityOutputInline]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ["disbursements_link"]
    fieldsets = [
        (None, {"fields": ["code", "name", "agreement", "category", "recipient", "status"]}),
        (_("Money and results"), {"fields": ["budget", "beneficiaries", "disbursements_link"]}),
        (_("Dates"), {"fields": ["start_date", "end_date"]}),
        (_("Details"), {"fields": ["description", "contact"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.recipient_within_agreement():
            self.message_user(
                request,
                _(
                    "The recipient %(recipient)s is not within the agreement's recipient unit %(unit)s: "
                    "the project is saved, please check it."
                )
                % {"recipient": obj.recipient, "unit": obj.agreement.recipient},
                messages.WARNING,
            )

    def get_queryset(self, request):
        # The disbursed column comes from an annotation: one query for the page, not one per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_disbursed=sum_related(Disbursement.objects.all(), "amount", "project"))
        )

    def narrow_as_of(self, queryset, as_of):
        # The same projects; their disbursed column counts only disbursements dated on or before as_of.
        paid = Disbursement.objects.filter(date__lte=as_of)
        return queryset.annotate(_disbursed=sum_related(paid, "amount", "project"))

    @admin.display(description=_("donor province"), ordering="agreement__province__order")
    def province(self, obj):
        return obj.agreement.province

    @admin.display(description=_("disbursements"))
    def disbursements_link(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("admin:projects_disbursement_changelist")
        return format_html(
            '<a href="{}?project__id__exact={}">{}</a>',
            url,
            obj.pk,
            _("%(count)s disbursements (the latest %(shown)s are below): open the list")
            % {"count": obj.disbursements.count(), "shown": DisbursementInline.shown},
        )

    @admin.display(description=_("aid amount (10,000 yuan)"), ordering="budget")
    def budget_wan(self, obj):
        return money.wan(obj.budget)

    @admin.display(description=_("disbursed (10,000 yuan)"), ordering="_disbursed")
    def disbursed_wan(self, obj):
        return money.wan(obj._disbursed)

    @admin.display(description=_("execution rate"))
    def execution_rate(self, obj):
        if not obj.budget:
            return "-"
        return f"{obj._disbursed / obj.budget:.1%}"


class ScopedChildAdmin(VersionedAdminMixin, DashboardParametersMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Disbursements and outputs: filtered like their projects."""

    list_filter = DASHBOARD_FILTERS
    list_select_related = ["project__agreement__province"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]
    show_full_result_count = False

    @admin.display(description=_("donor province"), ordering="project__agreement__province__order")
    def province(self, obj):
        return obj.project.agreement.province


@admin.register(Disbursement)
class DisbursementAdmin(ClosedQuarterDeletionMixin, SpreadsheetAdminMixin, ScopedChildAdmin):
    form = DisbursementForm
    list_display = ["project", "province", "date", "amount_wan", "reference"]
    search_fields = ["project__code", "project__name", "reference"]
    date_hierarchy = "date"

    def get_form(self, request, obj=None, change=False, **kwargs):
        return form_for_user(super().get_form(request, obj, change, **kwargs), request.user)

    def narrow_as_of(self, queryset, as_of):
        return queryset.filter(date__lte=as_of)

    @admin.display(description=_("amount (10,000 yuan)"), ordering="amount")
    def amount_wan(self, obj):
        return money.wan(obj.amount)


@admin.register(FacilityOutput)
class FacilityOutputAdmin(SpreadsheetAdminMixin, ScopedChildAdmin):
    list_display = ["project", "province", "facility_type", "quantity"]
    list_select_related = ["project__agreement__province", "facility_type"]
    list_filter = [*ScopedChildAdmin.list_filter, "facility_type"]


class AgreementAdmin(ClosedQuarterDeletionMixin, DashboardParametersMixin, BaseAgreementAdmin):
    """The agreement admin with its projects' figures — live projects, their budget and what was disbursed
    on them — from the rollups the dashboard reads, so the list and the dashboard agree. Registered here,
    once: the agreements app defines the admin but knows nothing of projects."""

    project_only_parameters = ("category", "status", "start_year", "live")
    list_filter = [ProvinceFilter, RecipientFilter, *BaseAgreementAdmin.list_filter, AsOfFilter]
    list_display = [
        *BaseAgreementAdmin.list_display[:-1],
        "project_count",
        "budget_wan",
        "disbursed_wan",
        BaseAgreementAdmin.list_display[-1],
    ]
    readonly_fields = ["projects_link"]
    fieldsets = [*BaseAgreementAdmin.fieldsets, (_("Projects"), {"fields": ["projects_link"]})]

    def get_queryset(self, request):
        # Correlated subqueries over the rollups: no join inflates them, and no query per row.
        rollups = ProjectRollup.objects.filter(live())
        return (
            super()
            .get_queryset(request)
            .annotate(
                _projects=sum_related(rollups, "projects", "agreement", output_field=COUNT),
                _budget_cents=sum_related(rollups, "budget_cents", "agreement", output_field=COUNT),
                _disbursed_cents=sum_related(rollups, "disbursed_cents", "agreement", output_field=COUNT),
            )
        )

    def narrow_as_of(self, queryset, as_of):
        # The same agreements; their disbursed column counts only disbursements dated on or before as_of,
        # read from the disbursements themselves (the rollups hold no dates).
        paid = Disbursement.objects.filter(live("project__"), date__lte=as_of)
        return queryset.annotate(
            _disbursed_cents=sum_related(paid, "amount", "project__agreement") * Value(100)
        )

    @admin.display(description=_("live projects"), ordering="_projects")
    def project_count(self, obj):
        url = reverse("admin:projects_project_changelist")
        return format_html('<a href="{}?agreement__id__exact={}&live=1">{}</a>', url, obj.pk, obj._projects)

    @admin.display(description=_("budget (10,000 yuan)"), ordering="_budget_cents")
    def budget_wan(self, obj):
        return money.wan(Decimal(obj._budget_cents).scaleb(-2))

    @admin.display(description=_("disbursed (10,000 yuan)"), ordering="_disbursed_cents")
    def disbursed_wan(self, obj):
        return money.wan(Decimal(obj._disbursed_cents).scaleb(-2))

    @admin.display(description=_("projects"))
    def projects_link(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("admin:projects_project_changelist")
        return format_html(
            '<a href="{}?agreement__id__exact={}">{}</a>',
            url,
            obj.pk,
            _("%(count)s live projects, budget %(budget)s (10,000 yuan): open the list")
            % {"count": obj._projects, "budget": self.budget_wan(obj)},
        )


admin.site.register(Agreement, AgreementAdmin)


@admin.register(ReportReminder)
class ReportReminderAdmin(admin.ModelAdmin):
    """The log of reminder mails (written by `remind_reports`), read-only."""

    list_display = ["day", "user", "email", "year", "quarter", "missing", "returned", "sent_at"]
    list_filter = ["day", "year", "quarter"]
    list_select_related = ["user"]
    search_fields = ["user__username", "email"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
