"""Accounts in the admin: the users list, a user's page, and the actions on a user.

The list is a page at a time: a ``Scan`` with ``Limit`` from an opaque cursor
(``selectors.user_page``), filtered by flags, address prefix or name; an exact
address or id is found with two reads instead. Every action goes through a
service that takes the acting admin, refuses what they may not do, and writes
the audit entry (``nebula.audit``). Registered with ``NebulaAdminSite``.
"""

import logging

from django import forms as django_forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from datalayer.cursors import InvalidCursorError
from nebula.admin import AdminSection
from nebula.validators import validate_one_line_text

from . import emails, selectors, services
from .forms import NebulaForm
from .models import User, is_user_id

logger = logging.getLogger(__name__)


USERS_PER_PAGE = 50

_YES_NO = [("", "All"), ("yes", "Yes"), ("no", "No")]
FILTERS = {"is_staff": "staff", "is_active": "active", "email_verified": "verified"}


class UserListForm(NebulaForm):
    """The users list's query: a search, the filters, and where the page starts."""

    q = django_forms.CharField(label="Search", max_length=254, required=False)
    match = django_forms.ChoiceField(
        label="Match",
        required=False,
        choices=[
            ("exact", "Exact address or user id"),
            ("prefix", "Address starts with"),
            ("name", "Name contains"),
        ],
    )
    is_staff = django_forms.ChoiceField(choices=_YES_NO, required=False)
    is_active = django_forms.ChoiceField(choices=_YES_NO, required=False)
    email_verified = django_forms.ChoiceField(choices=_YES_NO, required=False)
    cursor = django_forms.CharField(required=False, max_length=512)

    def filters(self) -> selectors.UserFilters:
        data = self.cleaned_data
        query = data["q"].strip()
        flags = {name: {"yes": True, "no": False}.get(data[name]) for name in FILTERS}
        return selectors.UserFilters(
            **flags,
            email_prefix=query if data["match"] == "prefix" else "",
            name_contains=query if data["match"] == "name" else "",
        )


class UserAdminForm(NebulaForm):
    display_name = django_forms.CharField(
        label="Display name", max_length=80, required=False, validators=[validate_one_line_text]
    )
    is_active = django_forms.BooleanField(
        label="Active",
        required=False,
        help_text="Unticking ends every session of the user at once.",
    )
    email_verified = django_forms.BooleanField(label="Email verified", required=False)
    is_staff = django_forms.BooleanField(label="Staff (may use this admin)", required=False)
    is_superuser = django_forms.BooleanField(label="Superuser", required=False)
    version = django_forms.IntegerField(
        widget=django_forms.HiddenInput, min_value=0, max_value=2**53
    )


def _context(request: HttpRequest, **extra: object) -> dict:
    return {**admin.site.each_context(request), **extra}


def _query(params: QueryDict, **changes: str | None) -> str:
    """Return ``params`` as a query string with ``changes`` applied (None removes)."""
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    return "?" + query.urlencode()


def _filter_links(params: QueryDict) -> list[dict]:
    """Describe the sidebar's filters as Django's changelist does: a link per choice."""
    return [
        {
            "title": title,
            "choices": [
                {
                    "display": label,
                    "selected": params.get(name, "") == value,
                    "query_string": _query(params, cursor=None, **{name: value}),
                }
                for value, label in _YES_NO
            ],
        }
        for name, title in FILTERS.items()
    ]


def user_list(request: HttpRequest) -> HttpResponse:
    """List users a page at a time (a filtered Scan), or find one by exact address or id."""
    form = UserListForm(request.GET)
    users: list[User] = []
    next_url = None
    status = 200
    not_found = False
    if not form.is_valid():
        status = 400
    else:
        query = form.cleaned_data["q"].strip()
        if query and form.cleaned_data["match"] in ("", "exact"):
            user = selectors.user_get_by_email(email=query) if "@" in query else None
            if user is None and is_user_id(query.lower()):
                user = selectors.user_get(user_id=query.lower())
            if user is not None:
                return redirect("admin:accounts_user", user_id=user.id)
            not_found = True
        else:
            try:
                page = selectors.user_page(
                    cursor=form.cleaned_data["cursor"] or None,
                    limit=USERS_PER_PAGE,
                    filters=form.filters(),
                )
            except InvalidCursorError:
                form.add_error(
                    None, "That page link is not valid. Start again from the first page."
                )
                status = 400
            else:
                users = page.users
                if page.cursor:
                    next_url = _query(request.GET, cursor=page.cursor)
    context = _context(
        request,
        title="Users",
        form=form,
        users=users,
        not_found=not_found,
        next_url=next_url,
        first_url=_query(request.GET, cursor=None) if request.GET.get("cursor") else None,
        filter_specs=_filter_links(request.GET),
        has_active_filters=any(request.GET.get(name) for name in FILTERS),
        scanning=status == 200 and not not_found,
        page_size=USERS_PER_PAGE,
    )
    return render(request, "admin/accounts/user_list.html", context, status=status)


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
                _log_refusal(request, "change", user)
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
    request: HttpRequest,
    user: User,
    form: UserAdminForm,
    *,
    refusal: str | None,
    status: int,
    error: str | None = None,
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
        error=error if error != refusal else None,
        second_factor=selectors.second_factor_get(user_id=user.id) if user.is_staff else None,
    )
    return render(request, "admin/accounts/user_detail.html", context, status=status)


def _log_refusal(request: HttpRequest, action: str, user: User) -> None:
    # Logged, not audited: the audit log records changes, and a refusal changed nothing.
    logger.warning("admin %s was refused %s of user %s", request.user.id, action, user.id)


def _refused(request: HttpRequest, user: User, action: str, exc: Exception) -> HttpResponse:
    _log_refusal(request, action, user)
    refusal = services.user_admin_refusal(actor=request.user, user=user)
    return _detail_page(
        request, user, _user_form(request, user), refusal=refusal, status=403, error=str(exc)
    )


def _changed_meanwhile(request: HttpRequest, user_id: str) -> HttpResponse:
    messages.error(request, "This user changed meanwhile. Look at the page again and retry.")
    return redirect("admin:accounts_user", user_id=user_id)


@require_POST
def user_end_sessions(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(user_id)
    try:
        ended = services.user_admin_end_sessions(actor=request.user, user=user)
    except services.AdminActionRefusedError as exc:
        return _refused(request, user, "ending the sessions", exc)
    logger.info("admin %s ended %d sessions of user %s", request.user.id, ended, user_id)
    messages.success(request, f"Ended {ended} session{'s' if ended != 1 else ''}.")
    return redirect("admin:accounts_user", user_id=user_id)


def _set_active(request: HttpRequest, user_id: str, *, active: bool) -> HttpResponse:
    user = _get_user_or_404(user_id)
    verb = "reactivation" if active else "deactivation"
    try:
        ended = services.user_admin_set_active(actor=request.user, user=user, active=active)
    except services.AdminActionRefusedError as exc:
        return _refused(request, user, verb, exc)
    except services.ConcurrentEditError:
        return _changed_meanwhile(request, user_id)
    logger.info("admin %s: %s of user %s", request.user.id, verb, user_id)
    if active:
        messages.success(request, f"Reactivated {user.email}.")
    else:
        messages.success(
            request, f"Deactivated {user.email}; ended {ended} session{'s' if ended != 1 else ''}."
        )
    return redirect("admin:accounts_user", user_id=user_id)


@require_POST
def user_deactivate(request: HttpRequest, user_id: str) -> HttpResponse:
    return _set_active(request, user_id, active=False)


@require_POST
def user_reactivate(request: HttpRequest, user_id: str) -> HttpResponse:
    return _set_active(request, user_id, active=True)


@require_POST
def user_password_reset(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(user_id)
    try:
        services.user_admin_send_password_reset(
            actor=request.user,
            user=user,
            send=lambda: emails.send_password_reset(request=request, user=user),
        )
    except services.AdminActionRefusedError as exc:
        return _refused(request, user, "a password reset", exc)
    logger.info("admin %s sent a password reset to user %s", request.user.id, user_id)
    messages.success(request, f"Sent a password-reset link to {user.email}.")
    return redirect("admin:accounts_user", user_id=user_id)


def user_delete(request: HttpRequest, user_id: str) -> HttpResponse:
    """Ask to confirm (GET), then delete as self-deletion does (POST)."""
    user = _get_user_or_404(user_id)
    if request.method == "POST":
        try:
            removed = services.user_admin_delete(actor=request.user, user=user)
        except services.AdminActionRefusedError as exc:
            return _refused(request, user, "deletion", exc)
        except services.ConcurrentEditError:
            return _changed_meanwhile(request, user_id)
        logger.info("admin %s deleted user %s", request.user.id, user_id)
        # The first two entries speak to the person themselves ("your account").
        messages.success(
            request, f"Deleted {user.email}, its address claim and {', '.join(removed[2:])}."
        )
        return redirect("admin:accounts_users")
    refusal = services.user_admin_refusal(actor=request.user, user=user)
    sessions = selectors.session_list_for_user(user_id=user.id)
    context = _context(
        request, title=f"Delete {user.email}?", subject=user, sessions=sessions, refusal=refusal
    )
    return render(
        request, "admin/accounts/user_delete.html", context, status=403 if refusal else 200
    )


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
        title="Users",
        description=(
            "Every account: list, filter (staff, active, verified) and search; change, "
            "deactivate, send a password reset, end sessions, delete."
        ),
        index_url_name="admin:accounts_users",
        entity_urls={"user": "admin:accounts_user"},
        urls=[
            path("users/", admin.site.view(user_list), name="accounts_users"),
            path("users/<str:user_id>/", admin.site.view(user_detail), name="accounts_user"),
            path(
                "users/<str:user_id>/end-sessions/",
                admin.site.view(user_end_sessions),
                name="accounts_user_end_sessions",
            ),
            path(
                "users/<str:user_id>/deactivate/",
                admin.site.view(user_deactivate),
                name="accounts_user_deactivate",
            ),
            path(
                "users/<str:user_id>/reactivate/",
                admin.site.view(user_reactivate),
                name="accounts_user_reactivate",
            ),
            path(
                "users/<str:user_id>/password-reset/",
                admin.site.view(user_password_reset),
                name="accounts_user_password_reset",
            ),
            path(
                "users/<str:user_id>/delete/",
                admin.site.view(user_delete),
                name="accounts_user_delete",
            ),
            path(
                "users/<str:user_id>/second-factor/reset/",
                admin.site.view(user_second_factor_reset),
                name="accounts_user_second_factor_reset",
            ),
        ],
    )
)
# Sessions have no page of their own: listing everyone's would scan the table.
admin.site.register_section(
    AdminSection(
        slug="accounts-sessions",
        title="Sessions",
        description=(
            "Signed-in browsers: device, IP address, when signed in and last seen. "
            "Each user's page lists theirs and ends them."
        ),
        index_url_name="admin:accounts_users",
    )
)
