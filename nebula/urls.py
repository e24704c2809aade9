"""Root URLs. ``/healthz`` and ``/readyz`` are answered by middleware."""

from django.contrib import admin
from django.urls import include, path

from . import views

handler500 = "nebula.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("contact/", include("contact.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
]
