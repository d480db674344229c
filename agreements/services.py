"""Writes that touch more than one model: staff accounts with their role and scope."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from agreements.models import ImportRecord, Province, RecipientUnit, StaffProfile

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


@transaction.atomic
def prune_imports(*, file_days: int, preview_hours: int = 24) -> tuple[int, int]:
    """Drop the uploaded file (not the record) of imports older than `file_days`, and cancel previews left
    unconfirmed for `preview_hours`, dropping their staged rows. Returns (files dropped, previews cancelled).

    The record — who, when, which file (name, size, SHA-256), counts and errors — is kept; only the error
    report, which needs the file, is no longer available for a pruned import.
    """
    now = timezone.now()
    previews = ImportRecord.objects.filter(
        outcome=ImportRecord.Outcome.PREVIEWED, created_at__lt=now - timedelta(hours=preview_hours)
    ).update(outcome=ImportRecord.Outcome.CANCELLED, staged=None, finished_at=now)
    files = ImportRecord.objects.filter(
        created_at__lt=now - timedelta(days=file_days), file__isnull=False
    ).update(file=None)
    return files, previews
