"""The Django admin, on DynamoDB: an ``AdminSite`` whose pages come from the apps.

There are no ORM models to register. Instead each app registers an
:class:`AdminSection` (a title, a description and its own admin views, written
with the admin's templates) in its ``admin.py``, which Django's admin autodiscovery
imports. The audit log (``nebula.audit``) is the site's own section: it belongs
to no app, and replaces Django's "Recent actions" (which reads the ORM). The
site keeps the admin's look, permission checks and logout; signing in goes
through the site's own login page (``settings.LOGIN_URL``), so the admin has no
second, unthrottled password form.

Every admin URL answers a page of its own or a 404: Django's views that need the
ORM (``ModelAdmin`` pages, "view on site", autocomplete) are not routed.

The index shows a dashboard of counts (``nebula.dashboard``), drawn as SVG on
the server; apps add their counts by status with :meth:`register_status_chart`.

Staff pass a second factor after the password before any admin page
(``nebula.second_factor``): until their session has, every admin URL leads to
``settings.NEBULA_ADMIN_SECOND_FACTOR_URL``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, URLPattern, path, reverse

from . import second_factor
from .audit import audit_list
from .audit_admin import audit_log
from .dashboard import StatusChart, dashboard_get

# Installed only for their machinery (forms, tokens, logout); contrib.auth's admin
# module registers its User and Group, whose pages would query the ORM.
_MACHINERY_APPS = frozenset({"auth", "contenttypes", "sessions"})

# Django's own admin views that need the ORM; without a route they are the catch-all's 404.
_ORM_VIEWS = frozenset({"view_on_site", "autocomplete"})


@dataclass
class AdminSection:
    """A part of the admin an app provides: its index entry and its views."""

    slug: str
    title: str
    description: str
    index_url_name: str
    urls: list[URLPattern] = field(default_factory=list)
    # Entity type in the audit log ("user") -> URL name of its admin page, given the id.
    entity_urls: dict[str, str] = field(default_factory=dict)


class NebulaAdminSite(admin.AdminSite):
    site_header = "Nebula admin"
    site_title = "Nebula admin"
    index_title = "Administration"
    index_template = "admin/nebula_index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._sections: dict[str, AdminSection] = {}
        self._status_charts: dict[str, StatusChart] = {}
        self.register_section(
            AdminSection(
                slug="audit",
                title="Audit log",
                description=(
                    "Every admin action: who, what, when, the values before and after; "
                    "newest first, by actor or by entity."
                ),
                index_url_name="admin:nebula_audit",
                urls=[path("", self.admin_view(audit_log), name="nebula_audit")],
            )
        )

    def register_section(self, section: AdminSection) -> None:
        """Add an app's admin pages (called from the app's ``admin.py``)."""
        self._sections[section.slug] = section

    def register_status_chart(self, chart: StatusChart) -> None:
        """Add an app's count by status to the index's dashboard (from the app's ``admin.py``)."""
        self._status_charts[chart.metric] = chart

    def sections(self) -> list[AdminSection]:
        return sorted(self._sections.values(), key=lambda s: s.title)

    def entity_url(self, entity_type: str, entity_id: str) -> str | None:
        """Return the admin page of an audited entity, if an app declared one."""
        for section in self._sections.values():
            if entity_type in section.entity_urls:
                try:
                    return reverse(section.entity_urls[entity_type], args=[entity_id])
                except NoReverseMatch:
                    return None
        return None

    def register(
        self,
        model_or_iterable: ModelBase | Iterable[ModelBase],
        admin_class: Any = None,
        **options: Any,
    ) -> None:
        """Refuse ORM ``ModelAdmin``s: there is no SQL database (apps register sections)."""
        models = (
            [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        )
        for model in models:
            if model._meta.app_label not in _MACHINERY_APPS:
                raise ImproperlyConfigured(
                    f"{model.__name__}: the admin has no SQL database; "
                    "register an AdminSection with admin.site.register_section()"
                )

    def get_urls(self) -> list[URLPattern]:
        urls = [
            path(f"{section.slug}/", (section.urls, "", None))
            for section in self._sections.values()
            if section.urls
        ]
        django_urls = [
            url for url in super().get_urls() if getattr(url, "name", None) not in _ORM_VIEWS
        ]
        # Django's catch-all view must stay last.
        return urls + django_urls

    def view(self, function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """Wrap an app's admin view: staff only, never cached."""
        return self.admin_view(function)

    def has_permission(self, request: HttpRequest) -> bool:
        """Let in active staff whose session passed the second factor."""
        return super().has_permission(request) and second_factor.passed(request)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Sign in through the site's own (rate-limited) login page, then the second factor."""
        if self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        if super().has_permission(request):
            # Staff, signed in with the password only: the second factor comes next.
            target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            return redirect_to_login(target, settings.NEBULA_ADMIN_SECOND_FACTOR_URL)
        if request.user.is_authenticated:
            # Signed in, yet sent here: the account has no admin access.
            return render(
                request, "admin/nebula_no_access.html", self.each_context(request), status=403
            )
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, settings.LOGIN_URL)

    def password_change(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(resolve_url(settings.NEBULA_PASSWORD_CHANGE_URL))

    def password_change_done(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        # Django's page says "your password was changed"; only the site's page changes it.
        return self.password_change(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {
            **self.each_context(request),
            "title": self.index_title,
            "sections": self.sections(),
            # One BatchGetItem on the counters table (nebula.dashboard), never a scan.
            "dashboard": dashboard_get(status_charts=list(self._status_charts.values())),
            # Django's "Recent actions" reads the ORM's LogEntry; ours is the audit log.
            "recent_actions": audit_list(actor_id=request.user.pk, limit=10).entries,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return render(request, self.index_template, context)
