"""The measured pages, written as a plain Django site would write them."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import forms
from .models import UserSession


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("accounts:profile")
    form = forms.LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        request.session.set_expiry(None if form.cleaned_data["remember"] else 0)
        request.session["created"] = timezone.now().isoformat()
        return redirect("accounts:profile")
    return render(request, "accounts/login.html", {"form": form})


@sensitive_post_parameters("password")
@never_cache
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    profile_form = forms.ProfileForm(
        request.POST if action == "profile" else None,
        initial={"display_name": user.first_name, "version": 0},
    )
    email_form = forms.EmailChangeForm(user, request.POST if action == "email" else None)
    if action == "profile" and profile_form.is_valid():
        user.first_name = profile_form.cleaned_data["display_name"]
        user.save(update_fields=["first_name"])
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    status = 400 if action in ("profile", "email") else 200
    avatar_form = forms.AvatarForm(initial={"idempotency_key": secrets.token_urlsafe(24)})
    return render(
        request,
        "accounts/profile.html",
        {
            "user": user,
            "profile_form": profile_form,
            "email_form": email_form,
            "avatar_form": avatar_form,
            "avatars_available": True,
        },
        status=status,
    )


_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("iPhone", r"iPhone"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
)


def _device(agent: str) -> str:
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


@dataclass(frozen=True)
class SessionRow:
    public_id: str
    device: str
    ip: str | None
    created: datetime | None
    last_seen: datetime
    is_current: bool


@never_cache
@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    current = request.session.session_key
    rows = [
        SessionRow(
            public_id=hashlib.sha256(row.session_key.encode()).hexdigest()[:20],
            device=_device(row.user_agent),
            ip=row.ip,
            created=row.get_decoded().get("created")
            and datetime.fromisoformat(row.get_decoded()["created"]),
            last_seen=row.last_seen,
            is_current=row.session_key == current,
        )
        for row in UserSession.objects.filter(
            user_id=request.user.pk, expire_date__gt=timezone.now()
        ).order_by("-last_seen")
    ]
    rows.sort(key=lambda row: not row.is_current)
    return render(request, "accounts/sessions.html", {"sessions": rows})


def not_measured(request: HttpRequest, **_: str) -> HttpResponse:
    """Pages the templates link to but the benchmark never opens."""
    return HttpResponse("Not part of the benchmark.", content_type="text/plain")
