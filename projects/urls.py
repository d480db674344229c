from django.urls import path

from projects import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("summary.json", views.summary_json, name="summary_json"),
]
