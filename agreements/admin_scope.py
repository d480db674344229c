"""Admin plumbing shared by every data model: row scoping and the dashboard's filter parameters.

Every admin for scoped data goes through `agreements.access.scope_queryset`, for its own rows and for
the rows its foreign-key fields may name.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agreements.access import scope_queryset, sees_everything, user_province
from agreements.models import Province, RecipientUnit


class ScopedAdminMixin:
    """Narrows changelists, change pages and foreign-key choices to the user's scope."""

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            field is not None
            and hasattr(field, "queryset")
            and hasattr(field.queryset.model, "scope_province")
        ):
            field.queryset = scope_queryset(request.user, field.queryset)
        if (
            field is not None
            and db_field.name == "province"
            and db_field.related_model is Province
            and not sees_everything(request.user)
        ):
            province = user_province(request.user)
            field.queryset = field.queryset.filter(pk=province.pk if province else None)
        return field


def _lookup(model, key):
    return getattr(model, key)


class ProvinceFilter(admin.SimpleListFilter):
    """`?province=<code>`: rows of that donor province (the agreement's province)."""

    title = _("donor province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        provinces = Province.objects.all()
        if not sees_everything(request.user):
            own = user_province(request.user)
            provinces = provinces.filter(pk=own.pk if own else None)
        return [(p.code, p.name) for p in provinces]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{_lookup(queryset.model, 'scope_province')}__code": self.value()})
        return queryset


class RecipientFilter(admin.SimpleListFilter):
    """`?recipient=<code>`: rows whose recipient unit is that unit or below it."""

    title = _("recipient unit")
    parameter_name = "recipient"

    def lookups(self, request, model_admin):
        return [(u.code, f"{'　' * (u.path.count('/') - 2)}{u.name}") for u in RecipientUnit.objects.all()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        unit = RecipientUnit.objects.filter(code=self.value()).first()
        if unit is None:
            return queryset.none()
        return queryset.filter(
            **{f"{_lookup(queryset.model, 'scope_recipient')}__path__startswith": unit.path}
        )
