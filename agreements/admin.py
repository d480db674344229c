from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from agreements.admin_chinese import PasswordChangeForm, PermissionLabelsMixin
from agreements.admin_scope import ScopedAdminMixin
from agreements.forms import WanAmountField
from agreements.models import Agreement, Pairing, Province, RecipientUnit, SecurityEvent, StaffProfile
from agreements.services import mark_must_change_password
from aidtracker import money
from aidtracker.versioning_admin import VersionedAdminMixin, status_action
from spreadsheets.admin import SpreadsheetAdminMixin


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "union_name", "order"]
    list_editable = ["order"]
    search_fields = ["code", "name", "union_name"]
    ordering = ["order", "code"]


@admin.register(RecipientUnit)
class RecipientUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "system", "level", "parent"]
    list_filter = ["system", "level"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]


@admin.register(Pairing)
class PairingAdmin(admin.ModelAdmin):
    list_display = ["province", "recipient", "valid_from", "valid_to", "note"]
    list_filter = ["province"]
    list_select_related = ["province", "recipient"]
    search_fields = ["province__name", "recipient__name", "recipient__code", "note"]
    autocomplete_fields = ["recipient"]


class AgreementForm(forms.ModelForm):
    pledged = WanAmountField(label=_("pledged amount (10,000 yuan)"))

    class Meta:
        model = Agreement
        fields = "__all__"


class AgreementStatusFilter(admin.SimpleListFilter):
    """`?agreement_status=<value>`; `?counted=1` keeps the signed and completed ones. (`status` is the
    dashboard's parameter, which narrows projects only.)"""

    title = _("agreement status")
    parameter_name = "agreement_status"

    def lookups(self, request, model_admin):
        return Agreement.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


def paired_annotation():
    """Whether a pairing covers the agreement's province and recipient unit (one EXISTS, no query per row)."""
    return Exists(Pairing.covering(OuterRef("province"), OuterRef("recipient__path")))


class PairedFilter(admin.SimpleListFilter):
    """`?paired=0` lists the agreements outside every pairing (allowed, but worth a look)."""

    title = _("within a pairing")
    parameter_name = "paired"

    def lookups(self, request, model_admin):
        return [("1", _("yes")), ("0", _("no, outside the pairings"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.alias(_is_paired=paired_annotation()).filter(_is_paired=self.value() == "1")
        return queryset


class CountedFilter(admin.SimpleListFilter):
    title = _("counted in the figures")
    parameter_name = "counted"

    def lookups(self, request, model_admin):
        return [("1", _("signed or completed"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(status__in=Agreement.COUNTED)
        return queryset


class AgreementAdmin(VersionedAdminMixin, SpreadsheetAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The agreement admin. The app that holds the projects registers it, adding the columns about the
    agreements' projects: this app knows nothing of them."""

    form = AgreementForm
    actions = [status_action(description=_("Change the status of the selected agreements"))]
    list_display = [
        "code",
        "title",
        "province",
        "recipient",
        "status",
        "signed_on",
        "pledged_wan",
        "paired",
    ]
    # The registered AgreementAdmin (projects.admin) puts the dashboard's province and recipient filters first.
    list_filter = [
        AgreementStatusFilter,
        CountedFilter,
        PairedFilter,
        "signed_on",
    ]
    list_select_related = ["province", "recipient"]
    search_fields = ["code", "title", "donor_unit"]
    autocomplete_fields = ["recipient"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["code", "title", "province", "donor_unit", "recipient", "status"]}),
        (_("Dates"), {"fields": ["signed_on", "starts_on", "ends_on"]}),
        (_("Money"), {"fields": ["pledged"]}),
        (_("Documents"), {"fields": ["document", "notes"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_paired=paired_annotation())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Pairings suggest and warn, never block (DESIGN section 2).
        if not obj.is_paired():
            self.message_user(
                request,
                _("%(province)s has no pairing with %(recipient)s: the agreement is saved, please check it.")
                % {"province": obj.province, "recipient": obj.recipient},
                messages.WARNING,
            )

    @admin.display(description=_("within a pairing"), boolean=True, ordering="_paired")
    def paired(self, obj):
        return obj._paired

    @admin.display(description=_("pledged (10,000 yuan)"), ordering="pledged")
    def pledged_wan(self, obj):
        return money.wan(obj.pledged)


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    autocomplete_fields = ["province", "recipient"]
    verbose_name_plural = _("role scope")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    inlines = [StaffProfileInline]
    list_display = ["username", "first_name", "is_active", "role", "scope"]
    list_select_related = ["staff_profile__province", "staff_profile__recipient"]
    list_filter = ["is_active", "groups"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out superuser status or permissions outside the role groups;
        # otherwise a national-office account could raise itself above its role.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            # The national office sets the first password; the user must replace it at first login.
            mark_must_change_password(form.instance)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and str(request.user.pk) != str(id):
            mark_must_change_password(self.get_object(request, id))
        return response

    @admin.display(description=_("role"))
    def role(self, obj):
        return "、".join(g.name for g in obj.groups.all()) or (_("superuser") if obj.is_superuser else "—")

    @admin.display(description=_("province or recipient unit"))
    def scope(self, obj):
        profile = getattr(obj, "staff_profile", None)
        if profile is None:
            return "-"
        return profile.province or profile.recipient or "-"


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log, read-only: nobody edits or deletes an audit record in the admin."""

    list_display = ["created", "kind", "username", "ip_address", "method", "path", "object"]
    list_filter = ["kind", "created"]
    search_fields = ["username", "path", "object", "ip_address"]
    date_hierarchy = "created"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
