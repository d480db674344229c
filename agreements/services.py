"""Writes that touch more than one model: staff accounts with their role and scope."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from agreements.models import Province, RecipientUnit, StaffProfile

ROLE_NATIONAL = "全国总工会"
ROLE_MANAGER = "管理人员"
ROLE_PROVINCE = "省市填报员"
ROLE_RECIPIENT = "受援单位填报员"


@transaction.atomic
def create_staff_user(
    *,
    username: str,
    password: str,
    role: str,
    province: Province | None = None,
    recipient: RecipientUnit | None = None,
    superuser: bool = False,
    must_change_password: bool = False,
):
    """Create (or reset) a staff user in one role group, with the StaffProfile naming their scope."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = superuser
    user.is_active = True
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    StaffProfile.objects.update_or_create(
        user=user,
        defaults={
            "province": province,
            "recipient": recipient,
            "must_change_password": must_change_password,
        },
    )
    return user


def mark_must_change_password(user) -> None:
    """Require `user` to choose a new password at their next login (after the national office set one)."""
    StaffProfile.objects.update_or_create(user=user, defaults={"must_change_password": True})
