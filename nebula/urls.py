"""Root URLs. ``/healthz`` and ``/readyz`` are answered by middleware."""

from django.urls import path

from . import views

handler500 = "nebula.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
]
