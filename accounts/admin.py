"""Accounts in the admin: find a user by email or id, change their flags, end sessions.

Finding is by exact address (the email claim) or id, never by listing the
table: there is no Scan on a request path. Registered with ``NebulaAdminSite``.
"""

import logging

from django import forms as django_forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from nebula.admin import AdminSection
from nebula.validators import validate_one_line_text

from . import selectors, services
from .forms import NebulaForm
from .models import User, is_user_id

logger = logging.getLogger(__name__)


class UserSearchForm(NebulaForm):
    q = django_forms.CharField(label="Email address or user id", max_length=254)


class UserAdminForm(NebulaForm):
    display_name = django_forms.CharField(
        label="Display name", max_length=80, required=False, validators=[validate_one_line_text]
    )
    is_active = django_forms.BooleanField(
        label="Active",
        required=False,
        help_text="Unticking signs the user out everywhere at their next request.",
    )
    email_verified = django_forms.BooleanField(label="Email verified", required=False)
    is_staff = django_forms.BooleanField(label="Staff (may use this admin)", required=False)
    is_superuser = django_forms.BooleanField(label="Superuser", required=False)
    version = django_forms.IntegerField(
        widget=django_forms.HiddenInput, min_value=0, max_value=2**53
    )


def _context(request: HttpRequest, **extra: object) -> dict:
    return {**admin.site.each_context(request), **extra}


def user_search(request: HttpRequest) -> HttpResponse:
    form = UserSearchForm(request.GET or None)
    not_found = False
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        user = selectors.user_get_by_email(email=query) if "@" in query else None
        if user is None and is_user_id(query.lower()):
            user = selectors.user_get(user_id=query.lower())
        if user is not None:
            return redirect("admin:accounts_user", user_id=user.id)
        not_found = True
    return render(
        request,
        "admin/accounts/user_search.html",
        _context(request, title="Find a user", form=form, not_found=not_found),
    )


def _get_user_or_404(user_id: str) -> User:
    user = selectors.user_get(user_id=user_id) if is_user_id(user_id) else None
    if user is None:
        raise Http404("No such user")
    return user


def _user_form(request: HttpRequest, user: User, data: object = None) -> UserAdminForm:
    """Return the change form; only superusers may change the staff and superuser flags."""
    form = UserAdminForm(
        data, initial={name: getattr(user, name) for name in UserAdminForm.base_fields}
    )
    if not request.user.is_superuser:
        for name in ("is_staff", "is_superuser"):
            form.fields[name].disabled = True
    return form


def user_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(user_id)
    refusal = services.user_admin_refusal(actor=request.user, user=user)
    form = _user_form(request, user, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        if user.id == request.user.id and changes.get("is_active") is False:
            form.add_error("is_active", "You cannot deactivate your own account here.")
        else:
            try:
                services.user_admin_update(
                    actor=request.user,
                    user=user,
                    expected_version=form.cleaned_data["version"],
                    changes=changes,
                )
            except services.AdminActionRefusedError as exc:
                form.add_error(None, str(exc))
                status = 403
            except services.ConcurrentEditError:
                form.add_error(
                    None, "This user changed since you opened the page. Reload and try again."
                )
            else:
                logger.info(
                    "admin %s changed user %s: %s", request.user.id, user.id, sorted(changes)
                )
                messages.success(request, f"Saved {user.email}.")
                return redirect("admin:accounts_user", user_id=user.id)
    if status == 200 and form.errors:
        status = 400
    return _detail_page(request, user, form, refusal=refusal, status=status)


def _detail_page(
    request: HttpRequest, user: User, form: UserAdminForm, *, refusal: str | None, status: int
) -> HttpResponse:
    if refusal:
        # Shown as it is stored, read-only, under a notice that says why.
        for field in form.fields.values():
            field.disabled = True
    sessions = selectors.session_rows_for_user(
        user_id=user.id, current_key=request.session.session_key
    )
    context = _context(
        request,
        title=user.email,
        subject=user,
        form=form,
        sessions=sessions,
        refusal=refusal,
        second_factor=selectors.second_factor_get(user_id=user.id) if user.is_staff else None,
    )
    return render(request, "admin/accounts/user_detail.html", context, status=status)


@require_POST
def user_end_sessions(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(user_id)
    try:
        ended = services.user_admin_end_sessions(actor=request.user, user=user)
    except services.AdminActionRefusedError as exc:
        return _detail_page(request, user, _user_form(request, user), refusal=str(exc), status=403)
    logger.info("admin %s ended %d sessions of user %s", request.user.id, ended, user_id)
    messages.success(request, f"Ended {ended} session{'s' if ended != 1 else ''}.")
    return redirect("admin:accounts_user", user_id=user_id)


@require_POST
def user_second_factor_reset(request: HttpRequest, user_id: str) -> HttpResponse:
    """Delete a staff member's second factor (superusers only; the service logs it)."""
    user = _get_user_or_404(user_id)
    try:
        reset = services.second_factor_reset(actor=request.user, user=user)
    except services.AdminActionRefusedError as exc:
        return _detail_page(request, user, _user_form(request, user), refusal=str(exc), status=403)
    if reset:
        messages.success(request, f"Reset the second factor of {user.email}; their sessions ended.")
    else:
        messages.info(request, f"{user.email} had no second factor.")
    return redirect("admin:accounts_user", user_id=user_id)


admin.site.register_section(
    AdminSection(
        slug="accounts",
        title="Accounts",
        description="Find a user by email address or id; change their flags; end their sessions.",
        index_url_name="admin:accounts_users",
        urls=[
            path("users/", admin.site.view(user_search), name="accounts_users"),
            path("users/<str:user_id>/", admin.site.view(user_detail), name="accounts_user"),
            path(
                "users/<str:user_id>/end-sessions/",
                admin.site.view(user_end_sessions),
                name="accounts_user_end_sessions",
            ),
            path(
                "users/<str:user_id>/second-factor/reset/",
                admin.site.view(user_second_factor_reset),
                name="accounts_user_second_factor_reset",
            ),
        ],
    )
)
