"""The Django admin, on DynamoDB: an ``AdminSite`` whose pages come from the apps.

There are no ORM models to register. Instead each app registers an
:class:`AdminSection` (a title, a description and its own admin views, written
with the admin's templates) in its ``admin.py``, which Django's admin autodiscovery
imports. The site keeps the admin's look, permission checks and logout; signing
in goes through the site's own login page (``settings.LOGIN_URL``), so the admin
has no second, unthrottled password form.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse


@dataclass
class AdminSection:
    """A part of the admin an app provides: its index entry and its views."""

    slug: str
    title: str
    description: str
    index_url_name: str
    urls: list[URLPattern] = field(default_factory=list)


class NebulaAdminSite(admin.AdminSite):
    site_header = "Nebula admin"
    site_title = "Nebula admin"
    index_title = "Administration"
    index_template = "admin/nebula_index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._sections: dict[str, AdminSection] = {}

    def register_section(self, section: AdminSection) -> None:
        """Add an app's admin pages (called from the app's ``admin.py``)."""
        self._sections[section.slug] = section

    def sections(self) -> list[AdminSection]:
        return sorted(self._sections.values(), key=lambda s: s.title)

    def get_urls(self) -> list[URLPattern]:
        urls = [
            path(f"{section.slug}/", (section.urls, "", None))
            for section in self._sections.values()
        ]
        # Django's catch-all view must stay last.
        return urls + super().get_urls()

    def view(self, function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """Wrap an app's admin view: staff only, never cached."""
        return self.admin_view(function)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Sign in through the site's own (rate-limited) login page."""
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
        return HttpResponseRedirect(settings.NEBULA_PASSWORD_CHANGE_URL)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {
            **self.each_context(request),
            "title": self.index_title,
            "sections": self.sections(),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return render(request, self.index_template, context)
