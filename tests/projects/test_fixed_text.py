"""The dashboard's fixed text (projects.templatetags.fixed: rendered once per language and URL prefix) is what
each request would render: it follows the reader's language and the address the site is served at, and a
block that would read the request is refused when the template is compiled."""

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import set_script_prefix

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/", "/dashboard/provinces/110000/", "/dashboard/categories/B/"]


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_speak_each_readers_language_one_request_after_the_other(client, manager, url):
    client.force_login(manager)
    for _round in range(2):  # the second round is served from what the first kept
        chinese = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
        english = client.get(url, headers={"accept-language": "en"}).content.decode()
        traditional = client.get(url, headers={"accept-language": "zh-hant"}).content.decode()
        assert "全国概览" in chinese and "National overview" not in chinese
        assert "National overview" in english and "全国概览" not in english
        assert "全國概覽" in traditional
        assert "退出登录" in chinese and "Log out" in english
        assert "/static/css/dashboard.css" in chinese and "/static/css/dashboard.css" in english


def test_links_follow_the_address_the_site_is_served_at(client, manager):
    client.force_login(manager)
    plain = client.get("/dashboard/").content.decode()
    set_script_prefix("/aid/")  # as the WSGI handler does for SCRIPT_NAME=/aid (the test client does not)
    try:
        prefixed = client.get("/dashboard/").content.decode()
    finally:
        set_script_prefix("/")
    assert 'class="brand" href="/dashboard/"' in plain
    assert 'class="brand" href="/aid/dashboard/"' in prefixed
    assert 'action="/aid/admin/logout/"' in prefixed
    assert 'href="/aid/dashboard/summary.json?' in prefixed
    assert 'class="brand" href="/dashboard/"' in client.get("/dashboard/").content.decode()


def _engine():
    return Engine(
        libraries={
            "fixed": "projects.templatetags.fixed",
            "i18n": "django.templatetags.i18n",
            "static": "django.templatetags.static",
        }
    )


@pytest.mark.parametrize(
    "inside",
    [
        "{{ user }}",
        "{% translate title %}",
        '{% translate "Apply" as label %}',
        '{% translate "Apply"|upper %}',
        '{% url "dashboard:province" code %}',
        "{% static path %}",
        "{% if user %}x{% endif %}",
        "{% csrf_token %}",
    ],
)
def test_a_block_reading_the_request_is_refused(inside):
    engine = _engine()
    with pytest.raises(TemplateSyntaxError):
        engine.from_string("{% load i18n static fixed %}{% fixed %}<p>" + inside + "</p>{% endfixed %}")


def test_a_block_of_literals_renders_as_without_it():
    engine = _engine()
    body = "<p>{% translate 'Apply' %} {% url 'dashboard:overview' %} {% static 'css/dashboard.css' %}</p>"
    plain = engine.from_string("{% load i18n static %}" + body).render(Context())
    fixed = engine.from_string("{% load i18n static fixed %}{% fixed %}" + body + "{% endfixed %}")
    assert fixed.render(Context()) == plain
    assert fixed.render(Context()) == plain
