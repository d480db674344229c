"""Shared builders for the reporting-cycle tests: photos made with Pillow, reports, admin form posts."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from agreements import services as account_services
from projects.models import Disbursement, ProgressReport
from tests.conftest import PASSWORD, make_agreement, make_project

ADD_URL = "admin:projects_progressreport_add"
CHANGELIST_URL = "admin:projects_progressreport_changelist"


def change_url(report):
    return reverse("admin:projects_progressreport_change", args=[report.pk])


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def jpeg_with_gps(size=(4000, 3000), orientation=6, name="site.jpg"):
    """A JPEG carrying a camera's EXIF: orientation, maker, and a GPS position."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Canon"
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=80)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png(size=(50, 40), name="site.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 120, 0)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report_post(report=None, *, project=None, photos=(), action=None, **fields):
    """The admin change form's POST: content, the hidden version, the photos inline and a button."""
    data = {
        "project": project.pk if project else report.project_id,
        "year": fields.pop("year", report.year if report else 2026),
        "quarter": fields.pop("quarter", report.quarter if report else 3),
        "percent_complete": fields.pop("percent_complete", report.percent_complete if report else 40),
        "narrative": fields.pop("narrative", report.narrative if report else "主体工程已完成。"),
        "review_note": fields.pop("review_note", ""),
        "photos-TOTAL_FORMS": str(len(photos)),
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "9",
    }
    if report is not None:
        data["version"] = fields.pop("version", report.version)
    for index, photo in enumerate(photos):
        data[f"photos-{index}-image"] = photo
        data[f"photos-{index}-caption"] = f"照片 {index + 1}"
    data[action or "_save"] = "1"
    data.update(fields)
    return data


@pytest.fixture
def national_staff(db):
    """A national-office account that is not a superuser: its powers come from the group alone."""
    return account_services.create_staff_user(
        username="national_staff", password=PASSWORD, role=account_services.ROLE_NATIONAL
    )


@pytest.fixture
def reviewer2(db):
    return account_services.create_staff_user(
        username="reviewer2", password=PASSWORD, role=account_services.ROLE_NATIONAL
    )


@pytest.fixture
def bj_project(db):
    agreement = make_agreement("BJ-2021-01", province="110000", recipient="653200")
    return make_project("BJ-2021-01-001", agreement, recipient="653201")


@pytest.fixture
def hb_project(db):
    agreement = make_agreement("HB-2021-01", province="420000", recipient="652700")
    return make_project("HB-2021-01-001", agreement, recipient="652700")


def make_report(project, author, status="draft", year=2026, quarter=3, **extra):
    return ProgressReport.objects.create(
        project=project,
        year=year,
        quarter=quarter,
        percent_complete=extra.pop("percent_complete", 30),
        narrative=extra.pop("narrative", "进展顺利。"),
        status=status,
        author=author,
        submitted_by=author if status in ("submitted", "approved") else None,
        **extra,
    )


def make_payment(project, day=datetime.date(2022, 2, 10), reference="PZ-1", amount="10000.00"):
    return Disbursement.objects.create(project=project, date=day, amount=amount, reference=reference)
