"""The admin side of "no lost edits": forms, inlines, bulk actions and deletes carry the version they were
opened with, and a save based on an older one is refused by `aidtracker.versioning.check_versions`.

- Change form: a hidden `version`; a stale save is a form error, nothing is written, the page lists what the
  other person changed (old → new) and keeps the user's input (fields they left alone take the new values,
  and the hidden version moves on, so saving again is a deliberate choice).
- Inlines: each row carries its version; a stale row (changed or being deleted) refuses the whole save.
- Bulk actions: an intermediate page lists the rows as they are now with `_version_<pk>` inputs; confirming
  with a stale one refuses the whole action and shows the page again with the rows as they are now. Every
  action page that posts such inputs is checked here, in `response_action`, delete_selected included.
- Delete page: carries the version; a delete confirmed after someone changed the record is refused.
"""

import dataclasses
from functools import cache

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from aidtracker.history import ReadableChanges
from aidtracker.versioning import StaleVersionError, check_versions, describe, stale_rows_message

VERSION = "version"
VERSION_PREFIX = "_version_"  # `_version_<pk>` on action confirmation pages


def has_version(model):
    return any(f.name == VERSION for f in model._meta.concrete_fields)


# -- forms ---------------------------------------------------------------------------------------------


class VersionedFormMixin:
    """A model form whose hidden `version` is checked (row locked) when it is cleaned.

    A form posted without a version (a client that never opened the page) is not checked here; the model's
    own save still keeps the version counting.
    """

    version_from_db = False  # the history "revert" form: the version to guard is the stored one
    version_conflict = None  # the StaleRow, described, when the check refused

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get(VERSION)
        if field is None:
            return
        field.widget = forms.HiddenInput()
        field.required = False
        field.label = _("version")
        if self.version_from_db and self.instance.pk is not None:
            stored = (
                type(self.instance)._base_manager.filter(pk=self.instance.pk).values_list(VERSION, flat=True)
            )
            self.initial[VERSION] = stored.first() or self.initial.get(VERSION)

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get(VERSION) if VERSION in self.fields else None
        instance = self.instance
        if expected is None or instance.pk is None or instance._state.adding:
            return cleaned
        try:
            check_versions(type(instance), {instance.pk: expected}, labels={instance.pk: str(instance)})
        except StaleVersionError as error:
            self.version_conflict = describe(error.rows[0])
            self._keep_input_take_theirs(self.version_conflict)
            raise ValidationError(conflict_message(self.version_conflict), code="stale") from None
        return cleaned

    def _keep_input_take_theirs(self, row):
        """Re-show the user's input; where they left a field as it was and the other person changed it, show
        the new value instead (saving again then does not undo it). The hidden version becomes the stored one."""
        if not hasattr(self.data, "setlist"):
            return
        data = self.data.copy()
        for change in row.changes:
            change.yours_kept = False
            if change.name not in self.fields:
                continue
            if change.name in self.cleaned_data and _raw(self.cleaned_data[change.name]) == change.old_raw:
                self._set_data(data, change.name, change.new_raw)
            else:
                change.yours_kept = True
        if row.stored is not None:
            data[self.add_prefix(VERSION)] = str(row.stored)
        self.data = data

    def _set_data(self, data, name, raw):
        field = self.fields[name]
        key = self.add_prefix(name)
        value = field.prepare_value(raw)
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
            else:
                data.pop(key, None)
            return
        formatted = field.widget.format_value(value)
        if isinstance(formatted, list | tuple):
            data.setlist(key, [str(v) for v in formatted])
        else:
            data[key] = "" if formatted is None else str(formatted)


def _raw(value):
    return value.pk if hasattr(value, "_meta") else value


def conflict_message(row):
    if row.deleted:
        return _("Not saved: %(row)s was deleted by someone else after you opened this page.") % {
            "row": row.title
        }
    return _(
        "Not saved: %(row)s was changed by %(users)s after you opened this page. Their changes are listed at "
        "the top of the page; your input is kept. Check it and save again."
    ) % {"row": row.title, "users": "、".join(row.users) or _("someone else")}


@cache
def versioned_form(form_class, version_from_db=False):
    if issubclass(form_class, VersionedFormMixin) and form_class.version_from_db == version_from_db:
        return form_class
    attrs = {"version_from_db": version_from_db, "__module__": form_class.__module__}
    return type(f"Versioned{form_class.__name__}", (VersionedFormMixin, form_class), attrs)


class VersionedFormSetMixin:
    """An inline formset that refuses to delete a row someone changed since the page was opened (Django
    ignores the errors of rows marked for deletion, so the row's own check is repeated here)."""

    def clean(self):
        super().clean()
        stale = [
            form.version_conflict
            for form in self.forms
            if self.can_delete and self._should_delete_form(form) and form.version_conflict is not None
        ]
        if stale:
            raise ValidationError(_("Nothing was saved: %(reason)s") % {"reason": stale_rows_message(stale)})


@cache
def versioned_formset(formset_class):
    if issubclass(formset_class, VersionedFormSetMixin):
        return formset_class
    attrs = {"__module__": formset_class.__module__}
    return type(f"Versioned{formset_class.__name__}", (VersionedFormSetMixin, formset_class), attrs)


# -- inlines -------------------------------------------------------------------------------------------


class VersionedInlineMixin:
    """Each existing row of the inline carries its version (hidden)."""

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != VERSION]
        return [*fields, VERSION] if self.has_change_permission(request, obj) else fields

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = versioned_form(kwargs.get("form", self.form))
        kwargs["formset"] = versioned_formset(kwargs.get("formset", self.formset))
        return super().get_formset(request, obj, **kwargs)


@cache
def versioned_inline(inline_class):
    if issubclass(inline_class, VersionedInlineMixin) or not has_version(inline_class.model):
        return inline_class
    # Same name: the inline stays recognisable as the (scoped) inline it wraps.
    attrs = {"__module__": inline_class.__module__}
    return type(inline_class.__name__, (VersionedInlineMixin, inline_class), attrs)


# -- the model admin -----------------------------------------------------------------------------------


class VersionedAdminMixin:
    """Put first among a versioned model's admin bases."""

    change_form_template = "admin/versioning/change_form.html"
    delete_confirmation_template = "admin/versioning/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/versioning/delete_selected_confirmation.html"

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != VERSION]
        if obj is None or not self.has_change_permission(request, obj):
            return fields
        return [*fields, VERSION]

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoryContextHelper(self.model, historical_record)

    def get_fieldsets(self, request, obj=None):
        # Only a form that can be saved carries the version; a read-only page does not show it.
        fieldsets = super().get_fieldsets(request, obj)
        if (
            obj is None
            or VERSION in flatten_fieldsets(fieldsets)
            or not self.has_change_permission(request, obj)
        ):
            return fieldsets
        name, options = fieldsets[0]
        return [(name, {**options, "fields": [*options["fields"], VERSION]}), *fieldsets[1:]]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = kwargs.pop("form", self.form)
        from_db = getattr(request, "_versioned_revert", False)
        return super().get_form(request, obj, change, form=versioned_form(form, from_db), **kwargs)

    def get_inlines(self, request, obj):
        return [versioned_inline(inline) for inline in super().get_inlines(request, obj)]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersionError as error:
            # Only when a write outside the forms (e.g. in save_related) met a newer version; the forms'
            # own check normally refuses first, with the changes shown.
            self.message_user(request, _("Nothing was saved: %(reason)s") % {"reason": error}, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        conflicts = []
        adminform = context.get("adminform")
        if adminform is not None and getattr(adminform.form, "version_conflict", None):
            conflicts.append(adminform.form.version_conflict)
        for inline in context.get("inline_admin_formsets", []):
            conflicts += [
                f.version_conflict for f in inline.formset.forms if getattr(f, "version_conflict", None)
            ]
        context["version_conflicts"] = conflicts
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Reverting to an old record is a save like any other: it is guarded against the version stored when
        # the page was opened, not against the old record's own.
        request._versioned_revert = True
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        expected = request.POST.get(VERSION) if request.method == "POST" else None
        if not (expected and _is_number(expected)):
            return super().delete_view(request, object_id, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                try:
                    check_versions(self.model, {obj.pk: expected}, labels={obj.pk: str(obj)})
                except StaleVersionError as error:
                    row = describe(error.rows[0])
                    self.message_user(request, delete_refused_message(row), messages.ERROR)
                    return HttpResponseRedirect(request.get_full_path())
            return super().delete_view(request, object_id, extra_context)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        valid = _valid_pks(self.model, selected)
        if len(valid) != len(selected):
            # A value that is no id selects nothing (Django would fail on it with a server error).
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, [str(pk) for pk in valid])
        expected = posted_versions(request)
        if request.method == "POST" and not request.POST.get("post"):
            limit = confirmable_rows()
            across = forms.BooleanField(required=False).to_python(request.POST.get("select_across"))
            chosen = queryset if across else queryset.filter(pk__in=valid)
            if limit is not None and chosen.count() > limit:
                self.message_user(
                    request,
                    _(
                        "At most %(limit)s rows can be changed or deleted at once: the page confirming them "
                        "would be more than one request may carry. Narrow the list with its filters and "
                        "act on the rows in parts."
                    )
                    % {"limit": limit},
                    messages.ERROR,
                )
                return None
        if not (request.method == "POST" and request.POST.get("post") and expected):
            return super().response_action(request, queryset)
        with transaction.atomic(using=router.db_for_write(self.model)):
            # Only rows the user may see and has selected: a version posted for any other row is ignored.
            visible = {str(pk): pk for pk in queryset.filter(pk__in=valid).values_list("pk", flat=True)}
            try:
                check_versions(self.model, {visible[k]: v for k, v in expected.items() if k in visible})
            except StaleVersionError as error:
                self.message_user(
                    request,
                    _("Nothing was done: %(reason)s The rows are shown again as they are now.")
                    % {"reason": error},
                    messages.ERROR,
                )
                # The action's own page again, with the rows and versions as they are now.
                request.POST = request.POST.copy()
                del request.POST["post"]
            return super().response_action(request, queryset)

    def bulk_change(self, request, queryset, field_name, *, action):
        """An action's intermediate page setting one choice field on the selected rows, then the change.

        The page lists the rows as they are now and carries each row's version; `response_action` has
        checked them (and locked the rows) before this confirms.
        """
        model_field = self.model._meta.get_field(field_name)
        choices = list(model_field.choices)
        value = request.POST.get("value")
        if request.POST.get("post") and value in {str(v) for v, _label in choices}:
            rows = list(queryset.order_by("pk"))
            for row in rows:
                if getattr(row, field_name) != value:
                    setattr(row, field_name, value)
                    row.save()
            self.message_user(
                request,
                _("%(field)s of %(count)d %(rows)s set to %(value)s.")
                % {
                    "field": capfirst(model_field.verbose_name),
                    "count": len(rows),
                    "rows": self.model._meta.verbose_name_plural,
                    "value": dict(model_field.flatchoices)[value],
                },
                messages.SUCCESS,
            )
            return None
        rows = [
            {
                "pk": row.pk,
                "label": str(row),
                "current": getattr(row, f"get_{field_name}_display")(),
                "version": row.version,
            }
            for row in queryset.order_by("pk")
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change %(field)s") % {"field": model_field.verbose_name},
            "opts": self.model._meta,
            "rows": rows,
            "field_label": capfirst(model_field.verbose_name),
            "choices": choices,
            "selected_value": value or "",
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "version_prefix": VERSION_PREFIX,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/versioning/bulk_change.html", context)


# Fields of an action's confirmation page besides the two per row (the row and its version).
CONFIRMATION_FIELDS = 20


def confirmable_rows():
    """The most rows an action's confirmation page can list: it posts two fields per row, and a request with
    more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields is a bare "Bad Request (400)". None: no limit."""
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return None if fields is None else max(1, (fields - CONFIRMATION_FIELDS) // 2)


def _valid_pks(model, values):
    pks = []
    for value in values:
        try:
            pks.append(model._meta.pk.to_python(value))
        except ValidationError:
            continue  # not an id at all: it selects nothing
    return pks


def _is_number(value):
    return value.isascii() and value.isdigit()


def posted_versions(request):
    """{pk as posted: version} from the `_version_<pk>` inputs of an action's confirmation page."""
    if request.method != "POST":
        return {}
    return {
        key[len(VERSION_PREFIX) :]: int(value)
        for key, value in request.POST.items()
        if key.startswith(VERSION_PREFIX) and _is_number(value)
    }


def delete_refused_message(row):
    if row.deleted:
        return _("%(row)s has already been deleted by someone else.") % {"row": row.title}
    changed = "、".join(str(c.label) for c in row.changes) or _("unknown fields")
    return _(
        "Not deleted: %(row)s was changed by %(users)s after you opened this page (%(fields)s). "
        "Check it and confirm again."
    ) % {"row": row.title, "users": "、".join(row.users) or _("someone else"), "fields": changed}


def status_action(*, description):
    """A bulk action changing the `status` of the selected rows through the versioned intermediate page."""

    @admin.action(description=description, permissions=["change"])
    def change_status(modeladmin, request, queryset):
        return modeladmin.bulk_change(request, queryset, "status", action="change_status")

    return change_status


class HistoryContextHelper(ReadableChanges):
    """The history page's list of changed fields, without the version counter (it changes every time), its
    values as a person reads them (aidtracker.history)."""

    def context_for_delta_changes(self, delta):
        changes = [change for change in delta.changes if change.field != VERSION]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))
