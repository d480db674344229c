"""Who may see which rows: the one scoping function every entry point goes through (DESIGN section 3).

A model takes part by naming, as class attributes, the lookups that reach its donor province
(`scope_province`) and its recipient unit (`scope_recipient`).
"""

from django.db.models import QuerySet

ALL_PROVINCES_PERMISSION = "agreements.view_all_provinces"


def sees_everything(user) -> bool:
    """National office and managers: every province's rows."""
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(ALL_PROVINCES_PERMISSION)))


def profile_of(user):
    """The user's StaffProfile, or None."""
    if not (user and user.is_authenticated):
        return None
    try:
        return user.staff_profile
    except user._meta.model.staff_profile.RelatedObjectDoesNotExist:
        return None


def scope_queryset(user, queryset: QuerySet) -> QuerySet:
    """Narrow `queryset` to the rows `user` may see; an unknown or unscoped user sees nothing."""
    model = queryset.model
    if sees_everything(user):
        return queryset
    profile = profile_of(user)
    if profile is None or not user.is_active:
        return queryset.none()
    if profile.province_id and hasattr(model, "scope_province"):
        return queryset.filter(**{f"{model.scope_province}_id": profile.province_id})
    if profile.recipient_id and hasattr(model, "scope_recipient"):
        return queryset.filter(**{f"{model.scope_recipient}__path__startswith": profile.recipient.path})
    return queryset.none()


def in_scope(user, obj) -> bool:
    """Whether `user` may see `obj` (True for no object, an unsaved one, or a model that is not scoped)."""
    if obj is None or obj.pk is None or getattr(obj, "_in_user_scope", False):
        return True
    model = type(obj)
    if not hasattr(model, "scope_province") or sees_everything(user):
        return True
    return scope_queryset(user, model._default_manager.filter(pk=obj.pk)).exists()


def user_province(user):
    """The province a province-staff user works for, or None."""
    profile = profile_of(user)
    return profile.province if profile and profile.province_id else None
