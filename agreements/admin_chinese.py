"""The admin in Chinese where Django and django-axes write English that no catalogue can translate.

- django-axes: its app is named "Axes", its records describe themselves in English ("Attempted Access: …"),
  and one list column has no label ("Status");
- Django's boolean icons carry `alt="True"` / `alt="False"` (its `_boolean_icon` hard-codes the value);
- the auth link tables (user ↔ group, user ↔ permission, group ↔ permission) appear on delete pages as
  "User_groups object (3)", under names made of model names;
- the user's password page warns "If disabled, the current password … will be lost." in English;
- permission names are stored once, in English, when the permission is created ("Can add aid agreement"):
  the user and group pages show them in the interface language instead.

Each fix is made once, here, when the admin is loaded (this module is imported by `agreements.admin`).
"""

import re

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.templatetags.static import static
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

BOOLEAN_LABELS = {True: _("Yes"), False: _("No"), None: _("Unknown")}
DEFAULT_ACTIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}
DEFAULT_PERMISSION = re.compile(r"^(add|change|delete|view)_(\w+)$")


def _boolean_icon(field_val):
    """Django's yes/no/unknown icon, with its alternative text in the interface language."""
    icon = {True: "yes", False: "no", None: "unknown"}[field_val]
    return format_html(
        '<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), BOOLEAN_LABELS[field_val]
    )


# Django imports `_boolean_icon` from this module at each call, so replacing it here reaches every use:
# changelist cells, read-only fields and `display_for_value`.
admin_list._boolean_icon = _boolean_icon


def permission_label(permission: Permission) -> str:
    """ "援疆协议 | 可添加 援疆协议" for the stored "agreements | aid agreement | Can add aid agreement"."""
    model = permission.content_type.model_class()
    match = DEFAULT_PERMISSION.match(permission.codename)
    if model is None:
        return f"{permission.content_type.app_label} | {gettext(permission.name)}"
    app = apps.get_app_config(model._meta.app_label).verbose_name
    tracked = getattr(model, "instance_type", None)  # django-simple-history's record of another model
    verbose_name = (
        gettext("history of %(name)s") % {"name": tracked._meta.verbose_name}
        if tracked is not None
        else model._meta.verbose_name
    )
    if match and match.group(2) == model._meta.model_name:
        name = DEFAULT_ACTIONS[match.group(1)] % {"name": verbose_name}
    else:
        name = gettext(permission.name)  # custom permissions: their names are msgids of our catalogue
    return f"{app} | {verbose_name} | {name}"


class PermissionLabelsMixin:
    """User and group pages list permissions by their translated names."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.remote_field.model is Permission:
            # Permissions of models that no longer exist (a model moved to another app) grant nothing.
            stale = [kind.pk for kind in ContentType.objects.all() if kind.model_class() is None]
            field.queryset = field.queryset.exclude(content_type__in=stale).select_related("content_type")
            field.label_from_instance = permission_label
        return field


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's form joins its help text to an untranslated English warning once, at import: here both
    parts are translated when the page is shown."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabelsMixin, DjangoGroupAdmin):
    pass


def _link_table(through, name, name_plural, describe):
    through._meta.verbose_name = name
    through._meta.verbose_name_plural = name_plural
    through.__str__ = describe


_link_table(
    User.groups.through,
    _("group membership"),
    _("group memberships"),
    lambda link: gettext("%(user)s in %(group)s") % {"user": link.user, "group": link.group},
)
_link_table(
    User.user_permissions.through,
    _("user permission"),
    _("user permissions"),
    lambda link: f"{link.user}: {permission_label(link.permission)}",
)
_link_table(
    Group.permissions.through,
    _("group permission"),
    _("group permissions"),
    lambda link: f"{link.group}: {permission_label(link.permission)}",
)


# --- django-axes ------------------------------------------------------------------------------------------

apps.get_app_config("axes").verbose_name = _("Login security")


def _when(moment):
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


AccessAttempt.__str__ = lambda attempt: (
    gettext("Login attempts of %(username)s, %(time)s")
    % {
        "username": attempt.username or "—",
        "time": _when(attempt.attempt_time),
    }
)
AccessLog.__str__ = lambda log: (
    gettext("Login of %(username)s, %(time)s")
    % {
        "username": log.username or "—",
        "time": _when(log.attempt_time),
    }
)
AccessFailureLog.__str__ = lambda failure: (
    (
        gettext("Failed login of %(username)s from %(ip)s, %(time)s (locked out)")
        if failure.locked_out
        else gettext("Failed login of %(username)s from %(ip)s, %(time)s")
    )
    % {
        "username": failure.username or "—",
        "ip": failure.ip_address or "—",
        "time": _when(failure.attempt_time),
    }
)


if admin.site.is_registered(AccessAttempt):

    class ChineseAccessAttemptAdmin(AccessAttemptAdmin):
        @admin.display(description=_("status"))
        def status(self, obj):
            return super().status(obj)

        @admin.display(description=_("expires at"))
        def expiration(self, obj):
            return super().expiration(obj)

    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, ChineseAccessAttemptAdmin)
