"""The load balancer's probe, and the headers that keep one user's figures out of shared caches."""

from unittest import mock

import pytest
from django.db import DatabaseError

from tests.conftest import make_agreement

pytestmark = pytest.mark.django_db


def test_healthz_says_the_database_answers_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_does_not_answer(client):
    with mock.patch("aidtracker.health.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}


def test_a_plain_http_probe_by_ip_gets_its_answer_in_production(client, settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["aid.example.org"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    # Any other page from the same probe is still redirected to https / refused for its host.
    assert client.get("/dashboard/", HTTP_HOST="aid.example.org").status_code == 301
    assert client.get("/dashboard/", HTTP_HOST="10.0.0.7:8000", secure=True).status_code == 400


DOWNLOADS = [
    "/dashboard/",
    "/dashboard/provinces/110000/",
    "/dashboard/provinces/110000/?format=xlsx",
    "/dashboard/categories/A/",
    "/dashboard/categories/A/?format=xlsx",
    "/dashboard/summary.json",
    "/dashboard/summary.xlsx",
    "/admin/projects/project/export/xlsx/",
    "/admin/projects/project/export/csv/",
    "/admin/projects/project/template.xlsx",
    "/admin/agreements/agreement/export/xlsx/",
]


@pytest.mark.parametrize("url", DOWNLOADS)
def test_figures_and_downloads_are_never_kept_by_a_shared_cache(client, manager, url):
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "private" in cache_control or "no-store" in cache_control


def test_an_agreement_document_is_never_kept_by_a_shared_cache(client, staff_bj, tmp_path, settings):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    agreement = make_agreement("BJ-DOC")
    agreement.document.save("doc.pdf", ContentFile(b"%PDF-1.4 test"))
    client.force_login(staff_bj)
    response = client.get(f"/files/agreements/agreement/{agreement.pk}/document/")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
