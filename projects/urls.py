from django.urls import path

from projects import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("provinces/<str:code>/", views.province, name="province"),
    path("categories/<str:code>/", views.category, name="category"),
    path("summary.json", views.summary_json, name="summary_json"),
    path("summary.xlsx", views.summary_xlsx, name="summary_xlsx"),
]
