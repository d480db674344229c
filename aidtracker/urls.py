from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (kept for future prefixed pages)
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = admin.site.site_title = "aidtracker"

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("projects.urls")),
    path("", include("agreements.urls")),
]

if settings.DEBUG:
    pass
