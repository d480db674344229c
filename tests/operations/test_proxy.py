"""Behind a reverse proxy: the lockout and the security log see the client, not the proxy — and only when
the number of trusted proxies is configured."""

import pytest
from django.test import Client
from django.urls import reverse

from agreements.models import SecurityEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"


def login_via_proxy(username, password, forwarded_for):
    return Client().post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def fail_five_times(username, forwarded_for):
    for _ in range(5):
        login_via_proxy(username, "wrong-password-123", forwarded_for)


def test_behind_one_trusted_proxy_an_attacker_locks_out_only_himself(settings, staff_bj):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_five_times("staff_bj", "203.0.113.9")
    assert login_via_proxy("staff_bj", PASSWORD, "203.0.113.9").status_code == 429
    # The real user, behind the same proxy, still logs in.
    assert login_via_proxy("staff_bj", PASSWORD, "198.51.100.4").status_code == 302


def test_behind_one_trusted_proxy_the_security_log_records_the_client(settings, db):
    settings.TRUSTED_PROXY_COUNT = 1
    login_via_proxy("nobody", "wrong-password-123", "203.0.113.9")
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED).ip_address == "203.0.113.9"


def test_an_address_the_client_made_up_is_not_believed(settings, staff_bj):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sends its own X-Forwarded-For; the proxy appends the address it really came from.
    fail_five_times("staff_bj", "1.2.3.4, 203.0.113.9")
    assert login_via_proxy("staff_bj", PASSWORD, "5.6.7.8, 203.0.113.9").status_code == 429
    login_via_proxy("nobody", "wrong-password-123", "1.2.3.4, 203.0.113.9")
    assert SecurityEvent.objects.filter(username="nobody").get().ip_address == "203.0.113.9"


def test_two_trusted_proxies_take_the_second_address_from_the_end(settings, db):
    settings.TRUSTED_PROXY_COUNT = 2
    login_via_proxy("nobody", "wrong-password-123", "1.2.3.4, 203.0.113.9, 10.0.0.2")
    assert SecurityEvent.objects.get(username="nobody").ip_address == "203.0.113.9"


def test_without_a_trusted_proxy_the_header_is_ignored(settings, staff_bj):
    settings.TRUSTED_PROXY_COUNT = 0
    fail_five_times("staff_bj", "203.0.113.9")
    # Everyone behind that address is the same client: the forged header changes nothing.
    assert login_via_proxy("staff_bj", PASSWORD, "198.51.100.4").status_code == 429
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED).first()
    assert event.ip_address == PROXY
