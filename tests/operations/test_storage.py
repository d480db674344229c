"""Uploads on a configurable storage: streamed through the scoped view, or a signed link of one minute —
never a public URL."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from tests.conftest import make_agreement

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


class SigningStorage(FileSystemStorage):
    """Stands in for an object store that signs its URLs (django-storages' S3 with querystring_auth)."""

    querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None):
        return f"https://objects.example.org/{name}?X-Amz-Expires={expire}&disposition={parameters}"


class PublicUrlStorage(FileSystemStorage):
    """A storage whose url() is a public address: it must never be handed out."""

    base_url = "https://public.example.org/"


def use_storage(settings, tmp_path, backend):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": backend, "OPTIONS": {"location": str(tmp_path)}},
    }


def url_of(agreement):
    return f"/files/agreements/agreement/{agreement.pk}/document/"


def test_a_signing_storage_redirects_to_a_link_valid_one_minute(client, settings, tmp_path, staff_bj):
    use_storage(settings, tmp_path, f"{__name__}.SigningStorage")
    agreement = make_agreement("BJ-STORE")
    agreement.document.save("doc.pdf", ContentFile(PDF))
    assert (tmp_path / agreement.document.name).read_bytes() == PDF  # it went to the configured storage
    client.force_login(staff_bj)
    response = client.get(url_of(agreement))
    assert response.status_code == 302
    assert response["Location"].startswith("https://objects.example.org/")
    assert "X-Amz-Expires=60&" in response["Location"]
    assert "attachment" in response["Location"]
    assert "no-store" in response["Cache-Control"]


def test_a_signing_storage_gives_no_link_outside_the_scope(client, settings, tmp_path, staff_hb):
    use_storage(settings, tmp_path, f"{__name__}.SigningStorage")
    agreement = make_agreement("BJ-STORE")
    agreement.document.save("doc.pdf", ContentFile(PDF))
    client.force_login(staff_hb)
    assert client.get(url_of(agreement)).status_code == 404


def test_a_storage_with_public_urls_is_streamed_not_linked(client, settings, tmp_path, staff_bj):
    use_storage(settings, tmp_path, f"{__name__}.PublicUrlStorage")
    agreement = make_agreement("BJ-STORE")
    agreement.document.save("doc.pdf", ContentFile(PDF))
    client.force_login(staff_bj)
    response = client.get(url_of(agreement))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "public.example.org" not in str(response.headers)
