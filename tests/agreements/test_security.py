"""Login and sessions, the security log, uploads and deployment settings (issue 5, points 3–5)."""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements import security
from agreements.models import Agreement, SecurityEvent, StaffProfile
from tests.agreements import access_data
from tests.agreements.access_data import admin_url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

rows = access_data.rows
fast_password_hasher = access_data.fast_password_hasher

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def login_post(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


# ---- login throttling ----


def test_five_failures_lock_that_username_from_that_address_only(staff_bj, staff_hb):
    client = Client()
    for _ in range(4):
        assert login_post(client, "staff_bj", "wrong-password-123").status_code == 200
    # The fifth failure locks the pair; even the right password is refused now, from this address.
    assert login_post(client, "staff_bj", "wrong-password-123").status_code == 429
    locked = login_post(client, "staff_bj", PASSWORD)
    assert locked.status_code == 429
    assert SESSION_KEY not in client.session
    # A colleague behind the same address is not locked out, nor is the same user from elsewhere.
    assert login_post(Client(), "staff_hb", PASSWORD).status_code == 302
    assert login_post(Client(), "staff_bj", PASSWORD, ip="10.0.0.2").status_code == 302
    kinds = list(SecurityEvent.objects.filter(username="staff_bj").values_list("kind", flat=True))
    assert kinds.count(SecurityEvent.Kind.LOGIN_FAILED) >= 5
    assert SecurityEvent.Kind.LOCKED_OUT in kinds


def test_lockout_ends_after_fifteen_minutes(staff_bj):
    client = Client()
    for _ in range(5):
        login_post(client, "staff_bj", "wrong-password-123")
    assert login_post(client, "staff_bj", PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login_post(Client(), "staff_bj", PASSWORD).status_code == 302


def test_failed_login_is_logged_with_user_time_and_path(db):
    before = timezone.now()
    login_post(Client(), "nobody", "wrong-password-123", ip="10.9.8.7")
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.username == "nobody"
    assert event.ip_address == "10.9.8.7"
    assert event.path.startswith(reverse("admin:login"))
    assert event.created >= before


# ---- passwords ----


@pytest.mark.parametrize("password,ok", [("short-pw-11", False), ("a-long-enough-pw", True)])
def test_passwords_need_twelve_characters(staff_bj, password, ok):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if ok:
        validate_password(password, staff_bj)
    else:
        with pytest.raises(ValidationError):
            validate_password(password, staff_bj)


# ---- sessions ----


def test_login_rotates_the_session_key(staff_bj):
    client = Client()
    client.get(reverse("admin:login"))
    session = client.session
    session["pre_login"] = True
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert login_post(client, "staff_bj", PASSWORD).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_logout_ends_the_session(staff_bj):
    client = Client()
    login_post(client, "staff_bj", PASSWORD)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("admin:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("admin:index")).status_code == 302


def test_sessions_last_at_most_eight_hours_in_the_cookie():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_IDLE_TIMEOUT == 60 * 60
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def _age_session(client, *, idle=0, since_login=0):
    session = client.session
    now = int(time.time())
    session["_last_seen"] = now - idle
    session[security.SESSION_STARTED] = now - since_login
    session.save()


def test_an_hour_idle_ends_the_session(staff_bj):
    client = Client()
    client.force_login(staff_bj)
    assert client.get(reverse("admin:index")).status_code == 200
    _age_session(client, idle=59 * 60, since_login=2 * 60 * 60)
    assert client.get(reverse("admin:index")).status_code == 200
    _age_session(client, idle=61 * 60, since_login=2 * 60 * 60)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_eight_hours_end_the_session_however_busy(staff_bj):
    client = Client()
    client.force_login(staff_bj)
    _age_session(client, idle=10, since_login=8 * 60 * 60 + 60)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# ---- first login: the password set by the national office must be changed ----


def test_user_created_in_the_admin_must_change_the_password(national):
    client = Client()
    client.force_login(national)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "staff_new",
            "password1": "initial-password-2024",
            "password2": "initial-password-2024",
            "usable_password": "true",
            "staff_profile-TOTAL_FORMS": "1",
            "staff_profile-INITIAL_FORMS": "0",
            "staff_profile-0-province": "",
            "staff_profile-0-recipient": "",
        },
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert StaffProfile.objects.get(user__username="staff_new").must_change_password


def test_demo_style_users_need_not_change_their_password(staff_bj):
    assert not StaffProfile.objects.get(user=staff_bj).must_change_password


def test_first_login_goes_to_the_password_change_until_done(staff_bj):
    StaffProfile.objects.filter(user=staff_bj).update(must_change_password=True)
    client = Client()
    assert login_post(client, "staff_bj", PASSWORD).status_code == 302
    change_url = reverse("agreements:password_change")
    for url in (reverse("admin:index"), "/dashboard/", admin_url("agreement", "changelist")):
        response = client.get(url)
        assert response.status_code == 302 and response.url == change_url, url
    assert client.get(change_url).status_code == 200
    response = client.post(
        change_url,
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-secret-2024",
            "new_password2": "a-new-secret-2024",
        },
    )
    assert response.status_code == 302
    assert not StaffProfile.objects.get(user=staff_bj).must_change_password
    assert client.get(reverse("admin:index")).status_code == 200


def test_national_office_password_reset_requires_a_change_again(national, staff_bj):
    client = Client()
    client.force_login(national)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[staff_bj.pk]),
        {"password1": "reset-by-office-2024", "password2": "reset-by-office-2024", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert StaffProfile.objects.get(user=staff_bj).must_change_password


# ---- refused accesses are logged ----


def test_out_of_scope_object_is_logged_with_user_path_and_object(staff_bj, rows):
    client = Client()
    client.force_login(staff_bj)
    hb = rows["hb"]["agreement"]
    client.get(admin_url("agreement", "change", hb.pk))
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.OUT_OF_SCOPE)
    assert event.user == staff_bj
    assert event.username == "staff_bj"
    assert event.path == admin_url("agreement", "change", hb.pk)
    assert event.object == f"agreements.agreement:{hb.pk}"


def test_a_missing_id_is_not_logged_as_out_of_scope(staff_bj, rows):
    client = Client()
    client.force_login(staff_bj)
    client.get(admin_url("agreement", "change", 987654))
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.OUT_OF_SCOPE).exists()


def test_refused_requests_are_logged(manager, rows):
    client = Client()
    client.force_login(manager)
    response = client.post(admin_url("agreement", "delete", rows["bj"]["agreement"].pk), {"post": "yes"})
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.FORBIDDEN)
    assert event.user == manager and event.method == "POST"


def test_security_log_is_kept_at_least_six_months(db):
    old = SecurityEvent.objects.create(kind=SecurityEvent.Kind.FORBIDDEN, path="/old")
    recent = SecurityEvent.objects.create(kind=SecurityEvent.Kind.FORBIDDEN, path="/recent")
    SecurityEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=400))
    SecurityEvent.objects.filter(pk=recent.pk).update(created=timezone.now() - timedelta(days=180))
    # Asking for less than six months still keeps six months.
    assert security.prune(older_than_days=30) == 1
    assert list(SecurityEvent.objects.values_list("path", flat=True)) == ["/recent"]


def test_security_log_is_read_only_in_the_admin(national):
    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.FORBIDDEN, path="/x")
    client = Client()
    client.force_login(national)
    assert client.get(reverse("admin:agreements_securityevent_changelist")).status_code == 200
    assert (
        client.post(
            reverse("admin:agreements_securityevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


# ---- uploads ----


def _agreement_form_data(national, agreement):
    return access_data.change_form_data(national, "agreement", agreement)


@pytest.mark.parametrize("content", [PDF, PNG, JPEG])
def test_documents_are_accepted_by_content(national, rows, settings, tmp_path, content):
    settings.MEDIA_ROOT = tmp_path
    agreement = rows["bj"]["agreement"]
    data = _agreement_form_data(national, agreement)
    # The name says nothing: the content decides.
    data["document"] = SimpleUploadedFile("scan.bin", content, content_type="application/octet-stream")
    client = Client()
    client.force_login(national)
    response = client.post(admin_url("agreement", "change", agreement.pk), data)
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).document


@pytest.mark.parametrize(
    "name,content",
    [("evil.pdf", b"<html><script>alert(1)</script></html>"), ("macro.png", b"PK\x03\x04 not an image")],
)
def test_documents_of_other_types_are_refused_whatever_the_name(
    national, rows, settings, tmp_path, name, content
):
    settings.MEDIA_ROOT = tmp_path
    agreement = rows["bj"]["agreement"]
    data = _agreement_form_data(national, agreement)
    data["document"] = SimpleUploadedFile(name, content, content_type="application/pdf")
    client = Client()
    client.force_login(national)
    response = client.post(admin_url("agreement", "change", agreement.pk), data)
    assert response.status_code == 200
    assert "document" in response.context["adminform"].form.errors
    assert not Agreement.objects.get(pk=agreement.pk).document


def test_documents_over_the_size_limit_are_refused(national, rows, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.AIDTRACKER_UPLOAD_MAX_BYTES = 1024
    agreement = rows["bj"]["agreement"]
    data = _agreement_form_data(national, agreement)
    data["document"] = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    client = Client()
    client.force_login(national)
    response = client.post(admin_url("agreement", "change", agreement.pk), data)
    assert response.status_code == 200
    assert "document" in response.context["adminform"].form.errors


def test_request_bodies_over_the_ceiling_are_refused(staff_bj, rows):
    client = Client()
    client.force_login(staff_bj)
    response = client.post(
        admin_url("agreement", "add"), {}, CONTENT_LENGTH=str(settings.AIDTRACKER_REQUEST_MAX_BYTES + 1)
    )
    assert response.status_code == 413


def _store_document(agreement, content=PDF):
    agreement.document.save("signed.pdf", SimpleUploadedFile("signed.pdf", content), save=True)


def test_documents_are_served_only_through_the_scoped_view(staff_bj, staff_hb, rows, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bj = rows["bj"]["agreement"]
    _store_document(bj)
    url = reverse("agreements:scoped_file", args=["agreements", "agreement", bj.pk, "document"])
    missing = reverse("agreements:scoped_file", args=["agreements", "agreement", 987654, "document"])

    anonymous = Client().get(url)
    assert anonymous.status_code == 302

    own = Client()
    own.force_login(staff_bj)
    response = own.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF

    other = Client()
    other.force_login(staff_hb)
    assert other.get(url).status_code == other.get(missing).status_code == 404
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.OUT_OF_SCOPE, user=staff_hb).count() == 1

    # The media URL does not exist at all.
    assert Client().get(bj.document.url).status_code == 404


def test_the_change_form_links_the_document_to_the_scoped_view(staff_bj, rows, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bj = rows["bj"]["agreement"]
    _store_document(bj)
    client = Client()
    client.force_login(staff_bj)
    body = client.get(admin_url("agreement", "change", bj.pk)).content.decode()
    assert reverse("agreements:scoped_file", args=["agreements", "agreement", bj.pk, "document"]) in body
    assert settings.MEDIA_URL not in body


@pytest.mark.parametrize("path", ["files/agreements/province/1/code/", "files/auth/user/1/password/"])
def test_the_file_view_serves_only_file_fields_of_scoped_models(national, path):
    client = Client()
    client.force_login(national)
    assert client.get("/" + path).status_code == 404


# ---- deployment ----


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k" * 10 + "".join(chr(ord("a") + i % 26) for i in range(60)) + "!@#$%^&*()",
        "ALLOWED_HOSTS": "example.org",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # set by the browser tests in this process, never in production
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_content_security_policy_forbids_inline_scripts(staff_bj):
    client = Client()
    client.force_login(staff_bj)
    policy = client.get(reverse("admin:index"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "frame-ancestors 'none'" in policy


def test_admin_pages_need_no_inline_script(national, rows):
    """Under the policy the admin works only if its pages carry no inline script or event handler."""
    client = Client()
    client.force_login(national)
    project = rows["bj"]["project"]
    urls = [
        reverse("admin:index"),
        admin_url("project", "changelist"),
        admin_url("project", "change", project.pk),
        admin_url("project", "add"),
        admin_url("project", "history", project.pk),
        admin_url("project", "simple_history", project.pk, project.history.latest().history_id),
        admin_url("agreement", "change", rows["bj"]["agreement"].pk),
        admin_url("disbursement", "changelist"),
        reverse("admin:auth_user_add"),
        reverse("agreements:password_change"),
    ]
    import_url = access_data.optional_admin_url("project", "import")
    if import_url:
        urls.append(import_url)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert not INLINE_SCRIPT.findall(body), url
        assert not INLINE_HANDLER.findall(body), url


def test_security_headers_are_sent(staff_bj):
    client = Client()
    client.force_login(staff_bj)
    response = client.get(reverse("admin:index"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_prune_command_keeps_six_months(db):
    from io import StringIO

    from django.core.management import call_command

    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.FORBIDDEN, path="/x")
    SecurityEvent.objects.filter(pk=event.pk).update(created=timezone.now() - timedelta(days=170))
    out = StringIO()
    call_command("prune_security_events", "--days", "1", stdout=out)
    assert SecurityEvent.objects.filter(pk=event.pk).exists()
    assert "183" in out.getvalue()
