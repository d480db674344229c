from django.urls import path

from agreements import views

app_name = "agreements"

urlpatterns = [
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "files/<str:app_label>/<str:model_name>/<int:pk>/<str:field>/",
        views.scoped_file,
        name="scoped_file",
    ),
]
