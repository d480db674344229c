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


class Scope:
    """Which rows a user may see: everything, one donor province's, one recipient unit's subtree's, or
    nothing. `narrow` applies it to a queryset (scope_queryset); `covers` answers it of a whole set of rows
    named by the dashboard's province and recipient filters, so the dashboard can tell which figures a user's
    changelist shows in full without a query per figure."""

    def __init__(self, user):
        self.everything = sees_everything(user)
        profile = None if self.everything or not user.is_active else profile_of(user)
        self.profile = profile
        self.province_id = profile.province_id if profile else None
        self.recipient_id = None if self.province_id or not profile else profile.recipient_id
        self._subtree = None

    def narrow(self, queryset: QuerySet) -> QuerySet:
        model = queryset.model
        if self.everything:
            return queryset
        if self.province_id and hasattr(model, "scope_province"):
            return queryset.filter(**{f"{model.scope_province}_id": self.province_id})
        if self.recipient_id and hasattr(model, "scope_recipient"):
            return queryset.filter(
                **{f"{model.scope_recipient}__path__startswith": self.profile.recipient.path}
            )
        return queryset.none()

    def covers(self, *, province: str | None = None, recipient: str | None = None) -> bool:
        """Whether `narrow` keeps every row of the set narrowed to the province and the recipient subtree
        with these codes (None: not narrowed that way)."""
        if self.everything:
            return True
        if self.province_id:
            return province is not None and province == self.profile.province.code
        if self.recipient_id and recipient is not None:
            if self._subtree is None:
                self._subtree = set(self.profile.recipient.subtree().values_list("code", flat=True))
            return recipient in self._subtree
        return False


def scope_queryset(user, queryset: QuerySet) -> QuerySet:
    """Narrow `queryset` to the rows `user` may see; an unknown or unscoped user sees nothing."""
    return Scope(user).narrow(queryset)


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
