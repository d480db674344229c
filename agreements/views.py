"""Scoped downloads of uploaded files, and the password change a new user must make at first login."""

import os
from urllib.parse import quote

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agreements import security
from agreements.access import scope_queryset
from agreements.models import StaffProfile
from agreements.uploads import served_content_type

PRESIGNED_SECONDS = 60


def scoped_file_model(app_label, model_name, field_name):
    """The model and file field a download URL names, if that model is scoped data; else None."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None, None
    if not hasattr(model, "scope_province"):
        return None, None
    try:
        field = model._meta.get_field(field_name)
    except Exception:
        return None, None
    if not isinstance(field, models.FileField):
        return None, None
    return model, field


def presigned_url(storage, name):
    """A link valid PRESIGNED_SECONDS to the file in an object store that signs its URLs, or None.

    Only a storage that signs (django-storages' S3 with `querystring_auth`, the default) is redirected to;
    any other storage is streamed by the view, because its `url()` would be a public address.
    """
    if not getattr(storage, "querystring_auth", False):
        return None
    filename = quote(os.path.basename(name))
    return storage.url(
        name,
        expire=PRESIGNED_SECONDS,
        parameters={"ResponseContentDisposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@require_safe
@login_required
def scoped_file(request, app_label, model_name, pk, field):
    """Serve an uploaded file of a record the user may see; anything else is a 404, as for a missing id.

    Files are never reachable from a public media URL: the storage is read here, after the scope check, and
    the content type comes from the file's content, not its name. An object store that signs URLs gets a
    redirect to a link valid one minute instead (the file does not pass through the app server).
    """
    model, file_field = scoped_file_model(app_label, model_name, field)
    if model is None or not request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
        raise Http404
    obj = scope_queryset(request.user, model._default_manager.filter(pk=pk)).first()
    if obj is None:
        if model._default_manager.filter(pk=pk).exists():
            security.record_out_of_scope(request, model, pk)
        raise Http404
    stored = getattr(obj, file_field.attname)
    if not stored:
        raise Http404
    signed = presigned_url(stored.storage, stored.name)
    if signed:
        response = HttpResponseRedirect(signed)
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = served_content_type(handle) or "application/octet-stream"
    response = FileResponse(
        handle, as_attachment=True, filename=os.path.basename(stored.name), content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """The admin's password change page; completing it clears the first-login flag."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("admin:index")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        if self.request.session.get(security.SESSION_MUST_CHANGE_PASSWORD):
            context["subtitle"] = _("Please choose a new password before you continue.")
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        StaffProfile.objects.filter(user=self.request.user).update(must_change_password=False)
        self.request.session.pop(security.SESSION_MUST_CHANGE_PASSWORD, None)
        messages.success(self.request, _("Your password was changed."))
        return response
