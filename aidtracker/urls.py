from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (kept for future prefixed pages)
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = admin.site.site_title = "aidtracker"
# The app list beside every page took a quarter of a 1,366 px screen from the lists; the index and the
# breadcrumbs lead to every list.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("projects.urls")),
    path("", include("agreements.urls")),
]

if settings.DEBUG:
    pass
