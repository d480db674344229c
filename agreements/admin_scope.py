"""Admin plumbing shared by every data model: row scoping. (The dashboard's filter parameters, `province` and
`recipient` among them, live with the dashboard's FilterSet and rule, in the projects app's admin filters.)

Every admin for scoped data goes through `agreements.access.scope_queryset` — for its own rows, for the rows
its foreign-key fields (and its inlines' fields) may name, for its history pages and for autocomplete (Django's
autocomplete view asks the *related* model's admin for its queryset, so every data admin must use this mixin
and have `search_fields`). A row outside the user's scope gets the answer a missing id gets.
"""

from functools import cache

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models

from agreements import security
from agreements.access import in_scope, scope_queryset, sees_everything, user_province
from agreements.models import Province
from agreements.widgets import SafeAutocompleteSelect, ScopedFileInput


def autocomplete_widget(model_admin, db_field, request, kwargs):
    """Django's autocomplete widget for the admin's autocomplete fields, made safe against a posted value
    that is no id (see SafeAutocompleteSelect)."""
    if "widget" not in kwargs and db_field.name in model_admin.get_autocomplete_fields(request):
        kwargs["widget"] = SafeAutocompleteSelect(db_field, model_admin.admin_site, using=kwargs.get("using"))
    return kwargs


def scope_foreignkey_field(field, db_field, request):
    """Limit a foreign-key form field to the rows the user may name; a POST naming another is a form error."""
    if field is None or not hasattr(field, "queryset"):
        return field
    if hasattr(field.queryset.model, "scope_province"):
        field.queryset = scope_queryset(request.user, field.queryset)
    if db_field.related_model is Province and not sees_everything(request.user):
        province = user_province(request.user)
        field.queryset = field.queryset.filter(pk=province.pk if province else None)
    return field


class ScopedPermissionsMixin:
    """Object permissions that also require the object to lie in the user's scope."""

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and in_scope(request.user, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and in_scope(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and in_scope(request.user, obj)


class ScopedInlineMixin(ScopedPermissionsMixin):
    """An inline whose rows and foreign-key choices are narrowed like its parent admin's."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if hasattr(queryset.model, "scope_province"):
            queryset = scope_queryset(request.user, queryset)
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = autocomplete_widget(self, db_field, request, kwargs)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return scope_foreignkey_field(field, db_field, request)


@cache
def scoped_inline(inline_class):
    """The scoped subclass of an inline class (one per class, made on first use)."""
    if issubclass(inline_class, ScopedInlineMixin):
        return inline_class
    return type(f"Scoped{inline_class.__name__}", (ScopedInlineMixin, inline_class), {})


class ScopedAdminMixin(ScopedPermissionsMixin):
    """Narrows everything an admin shows or accepts to the user's scope.

    Closes the holes a plain `get_queryset` filter leaves: foreign-key choices (also in inlines), history
    pages and the historical-record form (whose POST is refused unless the user may change the object), and
    uploaded files, which link to the scoped download view instead of a media URL.
    """

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        # A bulk action (or list_editable save) posted by a user who may change and delete nothing is refused
        # outright, not answered with Django's "no action selected" page.
        if request.method == "POST" and not (
            self.has_change_permission(request) or self.has_delete_permission(request)
        ):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            self._record_if_out_of_scope(request, object_id, from_field)
        else:
            obj._in_user_scope = True  # fetched through the scoped queryset: no second check needed
        return obj

    def _record_if_out_of_scope(self, request, object_id, from_field=None):
        field = self.model._meta.get_field(from_field) if from_field else self.model._meta.pk
        try:
            value = field.to_python(unquote(object_id))
        except Exception:
            return
        if self.model._default_manager.filter(**{field.attname: value}).exists():
            security.record_out_of_scope(request, self.model, value)

    def get_inlines(self, request, obj):
        return [scoped_inline(inline) for inline in super().get_inlines(request, obj)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = autocomplete_widget(self, db_field, request, kwargs)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return scope_foreignkey_field(field, db_field, request)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.FileField):
            kwargs["widget"] = ScopedFileInput(field_name=db_field.name)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # django-simple-history: its history page falls back to the historical rows when the object is not in
    # the queryset, and its record form saves a POST from any user who may view. Both go through the scope.

    def history_view(self, request, object_id, extra_context=None):
        if self.get_object(request, unquote(object_id)) is None and not sees_everything(request.user):
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if request.method == "POST" and not self.has_change_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
