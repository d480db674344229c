"""Site photos: judged by content, bounded in bytes and pixels before decoding, stored without metadata and
at most 1,920 px, nine in one request, and served only to users who may see the project."""

import io
import os
import struct
import zlib
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, JpegImagePlugin

from projects import photos
from projects.models import ProgressReport, ReportPhoto
from tests.projects import reports_data
from tests.projects.reports_data import (
    ADD_URL,
    CHANGELIST_URL,
    change_url,
    jpeg_with_gps,
    logged_in,
    png,
    report_post,
)

pytestmark = pytest.mark.django_db
bj_project = reports_data.bj_project
hb_project = reports_data.hb_project


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def stored(field):
    with field.open("rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def photo_url(photo, field="image"):
    return reverse("agreements:scoped_file", args=["projects", "reportphoto", photo.pk, field])


def test_photo_metadata_is_gone_orientation_applied_and_size_bounded(staff_bj, bj_project):
    response = logged_in(staff_bj).post(
        reverse(ADD_URL), report_post(project=bj_project, photos=[jpeg_with_gps()])
    )
    assert response.status_code == 302
    photo = ReportPhoto.objects.get()
    image = stored(photo.image)
    assert image.format == "JPEG"
    assert image.size == (1440, 1920)  # 4000 × 3000 turned upright (orientation 6), long side 1,920
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "icc_profile" not in image.info
    with photo.image.open("rb") as handle:
        raw = handle.read()
    assert b"Canon" not in raw and b"Exif" not in raw
    thumbnail = stored(photo.thumbnail)
    assert max(thumbnail.size) <= photos.THUMBNAIL_SIDE
    assert "site" not in photo.image.name  # the uploaded name is not kept


def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(staff_bj, bj_project):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = logged_in(staff_bj).post(reverse(ADD_URL), report_post(project=bj_project, photos=[fake]))
    assert response.status_code == 200
    assert "JPEG" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_a_photo_over_10_mb_is_refused():
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (photos.MAX_BYTES + 1))
    with pytest.raises(ValidationError, match="10"):
        photos.process_photo(big)


def test_an_image_bomb_is_refused_before_any_pixel_is_decoded():
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 megapixels, a few kilobytes
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue())
    assert bomb.size < 100_000
    with mock.patch.object(ImageFile.ImageFile, "load", side_effect=AssertionError("decoded")) as load:
        with pytest.raises(ValidationError, match="40"):
            photos.process_photo(bomb)
    load.assert_not_called()


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    upload = jpeg_with_gps(size=(6000, 4000), orientation=1)
    original = JpegImagePlugin.JpegImageFile.draft
    with mock.patch.object(
        JpegImagePlugin.JpegImageFile, "draft", autospec=True, side_effect=original
    ) as draft:
        image, _thumb = photos.process_photo(upload)
    assert draft.call_args_list[0].args[1:] == ("RGB", (1920, 1920))
    assert Image.open(io.BytesIO(image.read())).size == (1920, 1280)


def test_webp_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(buffer, "WEBP")
    image, _thumb = photos.process_photo(SimpleUploadedFile("x.webp", buffer.getvalue()))
    assert image.name.endswith(".webp")


def test_nine_photos_go_in_one_request_but_not_ten(staff_bj, bj_project):
    client = logged_in(staff_bj)
    ten = client.post(reverse(ADD_URL), report_post(project=bj_project, photos=[png() for _ in range(10)]))
    assert ten.status_code == 200
    assert not ProgressReport.objects.exists()
    nine = client.post(reverse(ADD_URL), report_post(project=bj_project, photos=[png() for _ in range(9)]))
    assert nine.status_code == 302
    assert ReportPhoto.objects.count() == 9


def noisy_png(side=1800):
    """A PNG just under 10 MB: random pixels do not compress."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG", compress_level=1)
    assert 9 * 1024 * 1024 < buffer.tell() <= photos.MAX_BYTES
    return buffer.getvalue()


def test_nine_photos_of_10_mb_go_in_one_request_on_that_form_only(staff_bj, bj_project):
    content = noisy_png()
    uploads = [SimpleUploadedFile(f"p{i}.png", content) for i in range(9)]
    client = logged_in(staff_bj)
    data = report_post(project=bj_project, photos=uploads)
    assert 9 * len(content) > settings.AIDTRACKER_REQUEST_MAX_BYTES
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 302
    assert ReportPhoto.objects.count() == 9
    assert max(stored(ReportPhoto.objects.first().image).size) == 1800
    elsewhere = client.post(
        reverse("admin:projects_disbursement_add"),
        {f"f{i}": SimpleUploadedFile(f"p{i}.png", content) for i in range(9)},
    )
    assert elsewhere.status_code == 413


def test_other_province_staff_never_see_a_report_or_its_photo(staff_bj, staff_hb, bj_project):
    logged_in(staff_bj).post(reverse(ADD_URL), report_post(project=bj_project, photos=[png()]))
    report = ProgressReport.objects.get()
    photo = report.photos.get()
    bj = logged_in(staff_bj)
    assert bj.get(photo_url(photo)).status_code == 200
    assert bj.get(photo_url(photo))["Content-Type"] == "image/png"
    assert bj.get(photo_url(photo, "thumbnail")).status_code == 200
    hb = logged_in(staff_hb)
    assert hb.get(reverse(CHANGELIST_URL)).context["cl"].result_count == 0
    page = hb.get(change_url(report))
    assert page.status_code == 302 and page.url == reverse("admin:index")
    assert hb.get(photo_url(photo)).status_code == 404
    assert hb.get(photo_url(photo, "thumbnail")).status_code == 404
    assert hb.get(reverse("admin:projects_progressreport_history", args=[report.pk])).status_code == 302


def test_recipient_staff_write_reports_of_their_subtree_only(recipient_ks, staff_bj, bj_project):
    from tests.conftest import make_agreement, make_project

    ks_agreement = make_agreement("SH-2021-01", province="310000", recipient="653100")
    ks_project = make_project("SH-2021-01-001", ks_agreement, recipient="653125")
    client = logged_in(recipient_ks)
    response = client.post(reverse(ADD_URL), report_post(project=ks_project, action="_submit"))
    assert response.status_code == 302
    assert ProgressReport.objects.get().status == "submitted"
    refused = client.post(reverse(ADD_URL), report_post(project=bj_project, quarter=2))
    assert refused.status_code == 200
    assert ProgressReport.objects.count() == 1


def test_a_read_only_report_links_its_photos_through_the_scoped_file_view(staff_bj, bj_project):
    logged_in(staff_bj).post(reverse(ADD_URL), report_post(project=bj_project, photos=[png()]))
    report = ProgressReport.objects.get()
    ProgressReport.objects.filter(pk=report.pk).update(status=ProgressReport.Status.APPROVED)
    photo = report.photos.get()
    page = logged_in(staff_bj).get(change_url(report))
    assert page.status_code == 200
    html = page.content.decode()
    assert settings.MEDIA_URL not in html  # the storage URL is not public: every link to it is broken
    assert f'href="{photo_url(photo)}"' in html
    assert f'src="{photo_url(photo, "thumbnail")}"' in html
    assert logged_in(staff_bj).get(photo_url(photo)).status_code == 200


def png_header(width, height):
    """A PNG of the given dimensions as far as its header goes; no pixel is ever allocated."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_header(width, height):
    """A baseline JPEG of the given dimensions as far as its markers go."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = struct.pack(">B", 3) + b"\x01\x00\x02\x11\x03\x11" + b"\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xc0"
        + struct.pack(">H", len(sof) + 2)
        + sof
        + b"\xff\xda"
        + struct.pack(">H", len(sos) + 2)
        + sos
        + b"\x00" * 64
        + b"\xff\xd9"
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("huge.png", png_header(20000, 20000)),  # 400 megapixels: beyond Pillow's own bomb limit
        ("wide.png", png_header(65000, 1000)),  # 65 megapixels: within Pillow's limit, beyond ours
        ("huge.jpg", jpeg_header(20000, 20000)),
        ("large.jpg", jpeg_header(10000, 9000)),  # 90 megapixels: Pillow would only warn
    ],
)
def test_any_photo_over_40_megapixels_is_refused_as_such(name, content):
    upload = SimpleUploadedFile(name, content)
    with mock.patch.object(ImageFile.ImageFile, "load", side_effect=AssertionError("decoded")):
        with pytest.raises(ValidationError) as refused:
            photos.process_photo(upload)
    assert refused.value.code == "photo_too_many_pixels"
    width, height = refused.value.params["width"], refused.value.params["height"]
    assert width * height > photos.MAX_PIXELS
    assert "40" in str(refused.value.messages[0])
