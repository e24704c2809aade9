"""Account pages: parse with a form, call a service, render. No DynamoDB call here."""

import functools
import time
import urllib.parse
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from jobs import services as job_services
from nebula import second_factor
from nebula.uploads import BoundedUploadHandler, bounded_upload
from pictures.check import MAX_BYTES

from . import devices, emails, forms, otp, ratelimits, selectors, services, session_keys, tokens
from .auth import login

# The reset token moves from the URL into the session, so it never leaks
# through the Referer header of the password form (as Django's own view does).
RESET_SESSION_TOKEN = "_password_reset_token"  # noqa: S105 - a session key's name
RESET_URL_TOKEN = "set-password"  # noqa: S105 - the URL's placeholder
AVATARS_UNAVAILABLE = (
    "Profile pictures cannot be uploaded on this server: it has no media bucket configured."
)
AVATAR_NOT_STORED = (
    "We could not store your picture just now. Nothing was changed; please try again soon."
)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@sensitive_post_parameters("password1", "password2")
@never_cache
@ratelimits.signup_per_ip
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = forms.SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
            )
        except services.EmailTakenError:
            form.add_error("email", "An account with this email address already exists.")
        except services.ConcurrentEditError:
            form.add_error(
                "email", "Someone is signing up with this address right now. Try again in a moment."
            )
        else:
            login(request, user, remember=False)
            emails.send_verification(request=request, user=user)
            messages.success(
                request, f"Welcome to Nebula! We sent a link to {user.email} to confirm it."
            )
            return redirect("accounts:profile")
    return render(request, "accounts/signup.html", {"form": form})


@sensitive_post_parameters("password")
@never_cache
@ratelimits.login_per_ip
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(next_url or reverse("accounts:profile"))
    form = forms.LoginForm(request, request.POST or None)
    if request.method == "POST":
        # A 429 once this device's (or, untrusted, the account's) failure budget is spent.
        with ratelimits.login_attempt(request) as attempt:
            if form.is_valid():
                try:
                    login(request, form.user, remember=form.cleaned_data["remember"])
                except services.UserGoneError:
                    request.session.flush()
                    form.add_error(None, form.invalid_login)
                else:
                    response = HttpResponseRedirect(next_url or reverse("accounts:profile"))
                    devices.remember(request, response, email=form.cleaned_data["email"])
                    return response
            attempt.failed = form.authentication_failed
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("home")


# Mail scanners and link previews follow links with GET or HEAD: that only
# shows a page, whose button POSTs (CSRF-protected) to the same address.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = tokens.read_verification_token(token)
    except tokens.InvalidTokenError as error:
        return _verify_result(request, ok=False, message=str(error))
    if request.method != "POST":
        return render(request, "accounts/verify_confirm.html", {"email": link.email})
    user = selectors.user_get(user_id=link.user_id)
    if user is None or not services.user_mark_email_verified(
        user=user, email=link.email, email_changes=link.email_changes
    ):
        return _verify_result(
            request, ok=False, message="This link was used already or is for an old address."
        )
    return _verify_result(request, ok=True, message=f"Thank you: {link.email} is confirmed.")


def _verify_result(request: HttpRequest, *, ok: bool, message: str) -> HttpResponse:
    return _result(request, "accounts/verify_result.html", ok=ok, message=message)


def _result(request: HttpRequest, template: str, *, ok: bool, message: str) -> HttpResponse:
    """Render the outcome of following a link from a mail (400 if it could not be used)."""
    return render(request, template, {"ok": ok, "message": message}, status=200 if ok else 400)


@require_POST
@login_required
@ratelimits.verification_resend_per_user
def verify_resend(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.info(request, "Your email address is already confirmed.")
    else:
        emails.send_verification(request=request, user=request.user)
        messages.success(request, f"We sent a new link to {request.user.email}.")
    return redirect("accounts:profile")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@ratelimits.password_check_per_user
def password_change(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.user_change_password(
                user=request.user,
                password=form.cleaned_data["new_password1"],
                keep_session_keys={request.session.session_key},
            )
        except services.UserGoneError:
            logout(request)
            return redirect("accounts:login")
        update_session_auth_hash(request, request.user)  # this session stays, under a new key
        messages.success(
            request,
            f"Your password is changed. {ended} other session{'s' if ended != 1 else ''} "
            "signed out.",
        )
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


@never_cache
@ratelimits.password_reset_per_ip
@ratelimits.password_reset_per_account
def password_reset(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = selectors.user_get_by_email(email=form.cleaned_data["email"], always_two_reads=True)
        # The same work and the same answer either way: never say whether an
        # address has an account (the mail is decided and built beside the request).
        emails.send_password_reset(request=request, user=user)
        return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user_id = tokens.decode_uid(uidb64)
    user = selectors.user_get(user_id=user_id) if user_id else None
    from_url = token != RESET_URL_TOKEN
    if not from_url:
        token = _reset_token_in_session(request)
    if user is None or not tokens.password_reset_tokens.check_token(user, token):
        return _invalid_reset_link(request)
    if from_url:
        if not request.session.keys():
            # A new session: only a valid link costs one, for as long as the link lives.
            request.session.set_expiry(settings.PASSWORD_RESET_TIMEOUT)
        # A session the person already had keeps its own lifetime and cookie: the
        # token carries its own timestamp instead.
        request.session[RESET_SESSION_TOKEN] = {"token": token, "stored": int(time.time())}
        return redirect("accounts:password_reset_confirm", uidb64=uidb64, token=RESET_URL_TOKEN)
    form = forms.SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_reset_password(
                user=user,
                password=form.cleaned_data["new_password1"],
                device=devices.device_id(request, user.email),
            )
        except services.UserGoneError:
            request.session.flush()
            return _invalid_reset_link(request)
        # Every session of the user ended, maybe this one too: start afresh.
        request.session.flush()
        return redirect("accounts:password_reset_complete")
    return render(
        request, "accounts/password_reset_confirm.html", {"validlink": True, "form": form}
    )


def _reset_token_in_session(request: HttpRequest) -> str:
    """Return the reset token this session holds, if it is younger than a reset link may be."""
    stored = request.session.get(RESET_SESSION_TOKEN)
    if not isinstance(stored, dict):
        return ""
    age = time.time() - stored.get("stored", 0)
    return stored.get("token", "") if 0 <= age <= settings.PASSWORD_RESET_TIMEOUT else ""


def _invalid_reset_link(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_confirm.html", {"validlink": False}, status=400)


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_complete.html")


def _profile_limits(view: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Limit email changes (they mail any address) and the password check they make."""
    email_limited = ratelimits.email_change_per_user(ratelimits.password_check_per_user(view))

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.POST.get("action") == "email":
            return email_limited(request)
        return view(request)

    return wrapper


@sensitive_post_parameters("password")
@never_cache
@login_required
@_profile_limits
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    profile_form = forms.ProfileForm(
        request.POST if action == "profile" else None,
        initial={"display_name": user.display_name, "version": user.version},
    )
    email_form = forms.EmailChangeForm(user, request.POST if action == "email" else None)
    if action == "profile" and profile_form.is_valid():
        try:
            services.user_update_profile(
                user=user,
                expected_version=profile_form.cleaned_data["version"],
                display_name=profile_form.cleaned_data["display_name"],
            )
        except services.ConcurrentEditError:
            profile_form.add_error(
                None,
                "Your profile was changed somewhere else since you opened this page. "
                "Nothing was saved: reload the page and try again.",
            )
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    elif action == "email" and email_form.is_valid():
        new_email = email_form.cleaned_data["new_email"]
        emails.send_email_change(request=request, user=user, new_email=new_email)
        messages.success(
            request, f"We sent a link to {new_email}. Your address changes when you follow it."
        )
        return redirect("accounts:profile")
    status = 400 if action in ("profile", "email") else 200
    return _profile_page(request, profile_form=profile_form, email_form=email_form, status=status)


def _profile_page(
    request: HttpRequest,
    *,
    profile_form: forms.ProfileForm | None = None,
    email_form: forms.EmailChangeForm | None = None,
    avatar_form: forms.AvatarForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the profile page, with the forms given (bound, with errors) or fresh ones."""
    user = request.user
    if profile_form is None:
        profile_form = forms.ProfileForm(
            initial={"display_name": user.display_name, "version": user.version}
        )
    if email_form is None:
        email_form = forms.EmailChangeForm(user)
    if avatar_form is None:
        avatar_form = forms.AvatarForm(initial={"idempotency_key": forms.new_idempotency_key()})
    context = {
        "user": user,
        "profile_form": profile_form,
        "email_form": email_form,
        "avatar_form": avatar_form,
        "avatars_available": selectors.avatars_available(),
        # The latest upload's job, while it has not become the avatar (no read: its id).
        "avatar_job_url": (
            reverse("jobs:detail", kwargs={"job_id": user.avatar_pending})
            if user.avatar_pending
            else None
        ),
    }
    return render(request, "accounts/profile.html", context, status=status)


# The upload handlers must be set before anything reads the body, and the CSRF
# check reads it: Django's recipe is csrf_exempt here, csrf_protect on the inner view.
@csrf_exempt
@require_POST
@login_required
@ratelimits.avatar_upload_per_user
def avatar_upload(request: HttpRequest) -> HttpResponse:
    upload = bounded_upload(request, max_bytes=MAX_BYTES)
    if upload.too_large:
        # Refused from Content-Length alone: the body is never read, nothing changes.
        form = forms.AvatarForm(
            data={"idempotency_key": forms.new_idempotency_key()}, too_large=True
        )
        form.is_valid()
        return _profile_page(request, avatar_form=form, status=400)
    return _avatar_upload(request, upload)


@csrf_protect
def _avatar_upload(request: HttpRequest, upload: BoundedUploadHandler) -> HttpResponse:
    form = forms.AvatarForm(request.POST, request.FILES, too_large=upload.too_large)
    if not selectors.avatars_available():
        form.add_error(None, AVATARS_UNAVAILABLE)
    elif form.is_valid():
        try:
            services.user_avatar_upload(
                user=request.user,
                data=form.data_bytes,
                picture=form.info,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except job_services.NotAllowedError as exc:
            form.add_error(None, str(exc))
        except services.AvatarStorageError:
            form.add_error("picture", AVATAR_NOT_STORED)
        except services.UserGoneError:
            logout(request)
            return redirect("accounts:login")
        else:
            messages.success(
                request, "Your picture is uploaded. It shows here as soon as it is ready."
            )
            return redirect("accounts:profile")
    return _profile_page(request, avatar_form=form, status=400)


@require_POST
@login_required
def avatar_remove(request: HttpRequest) -> HttpResponse:
    try:
        removed = services.user_avatar_remove(user=request.user)
    except services.UserGoneError:
        logout(request)
        return redirect("accounts:login")
    if removed:
        messages.success(request, "Your picture is removed.")
    else:
        messages.info(request, "You have no picture to remove.")
    return redirect("accounts:profile")


@login_required
@require_safe
def avatar_image(request: HttpRequest, version: str, size: int) -> HttpResponse:
    """Send one size of the signed-in person's own avatar (the site's origin: CSP allows it)."""
    data = selectors.avatar_image(user=request.user, version=version, size=size)
    if data is None:
        raise Http404("No such picture.")
    response = HttpResponse(data, content_type="image/webp")
    # A version's bytes never change (a new picture has a new URL); only this person's.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = tokens.read_email_change_token(token)
    except tokens.InvalidTokenError as error:
        return _email_result(request, ok=False, message=str(error))
    user = request.user
    if (
        user.id != link.user_id
        or user.email != link.old_email
        or user.email_changes != link.email_changes
    ):
        return _email_result(
            request, ok=False, message="This link was used already or is for another account."
        )
    if request.method != "POST":
        return render(
            request,
            "accounts/email_change_confirm.html",
            {"old_email": link.old_email, "new_email": link.new_email},
        )
    try:
        services.user_change_email(
            user=user,
            old_email=link.old_email,
            new_email=link.new_email,
            email_changes=link.email_changes,
        )
    except services.EmailTakenError:
        return _email_result(
            request, ok=False, message=f"{link.new_email} is now used by another account."
        )
    except services.ConcurrentEditError:
        return _email_result(
            request, ok=False, message="Your account changed meanwhile. Please try again."
        )
    return _email_result(request, ok=True, message=f"Your email address is now {link.new_email}.")


def _email_result(request: HttpRequest, *, ok: bool, message: str) -> HttpResponse:
    return _result(request, "accounts/email_change_result.html", ok=ok, message=message)


def _with_session_list(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Have the session's one read also fetch the user's session list.

    Goes outside ``login_required``, which loads the session (lazily, at its
    first use): the flag must be set before. Only the pages that show the list
    pay for reading it.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        request.session.fetch_session_list = True
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@_with_session_list
@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    rows = selectors.session_rows_from_entries(
        entries=request.session.session_entries(), current_key=request.session.session_key
    )
    return render(request, "accounts/sessions.html", {"sessions": rows})


@require_POST
@login_required
def session_end(request: HttpRequest) -> HttpResponse:
    public_id = request.POST.get("session_id", "")[:64]
    current_key = request.session.session_key
    if current_key and public_id in session_keys.public_ids(current_key):
        messages.error(request, "To end this session, log out.")
    elif services.session_end(user_id=request.user.id, public_id=public_id):
        messages.success(request, "That session is signed out.")
    else:
        messages.error(request, "That session had already ended.")
    return redirect("accounts:sessions")


@require_POST
@login_required
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = services.session_end_all(
        user_id=request.user.id, except_keys={request.session.session_key}
    )
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:sessions")


WILL_REMOVE = [
    "your account and profile",
    "your email address (it can be used for a new account)",
    "every session: you are signed out everywhere",
]


@sensitive_post_parameters("password")
@never_cache
@login_required
@ratelimits.password_check_per_user
def delete(request: HttpRequest) -> HttpResponse:
    form = forms.DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        removed = services.user_delete(user=request.user)
        logout(request)
        return render(request, "accounts/deleted.html", {"removed": removed})
    return render(request, "accounts/delete.html", {"form": form, "will_remove": WILL_REMOVE})


def _staff_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Signed-in staff only: the second factor guards the admin, and only staff use it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not request.user.is_staff:
            return redirect("accounts:profile")
        return view(request)

    return login_required(wrapper)


def _second_factor_url(name: str, next_url: str) -> str:
    url = reverse(name)
    return f"{url}?{urllib.parse.urlencode({'next': next_url}, safe='/')}" if next_url else url


@sensitive_post_parameters("code")
@never_cache
@_staff_only
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up the second factor: "Start set-up" (POST) makes the secret, a code turns it on.

    A GET reads and never writes: until the person presses "Start set-up" the page
    only explains; after it, it shows the same pending secret on every reload.
    """
    next_url = _safe_next(request)
    here = _second_factor_url("accounts:second_factor_setup", next_url)
    factor = selectors.second_factor_get(user_id=request.user.id)
    if factor is not None and factor.confirmed:
        # Set up already: replacing it takes a superuser's reset.
        return redirect(_second_factor_url("accounts:second_factor_verify", next_url))
    if request.method == "POST" and "start" in request.POST:
        try:
            services.second_factor_begin(user=request.user)
        except services.SecondFactorStateError:
            return redirect(_second_factor_url("accounts:second_factor_verify", next_url))
        return redirect(here)  # POST, redirect, GET: a reload starts nothing again
    if factor is None:
        # Not started (or reset meanwhile): the page offers "Start set-up".
        status = 400 if request.method == "POST" else 200
        return render(
            request,
            "accounts/second_factor_setup.html",
            {"next": next_url, "started": False},
            status=status,
        )
    form = forms.SecondFactorSetupForm(request.POST or None)
    if request.method == "POST":
        codes = None
        # A 429 once the user's budget of wrong codes is spent.
        with ratelimits.second_factor_attempt(user_id=request.user.id) as attempt:
            if form.is_valid():
                try:
                    codes = services.second_factor_confirm(
                        user=request.user, code=form.cleaned_data["code"]
                    )
                except (services.ConcurrentEditError, services.SecondFactorStateError):
                    form.add_error(None, "Your second factor changed meanwhile. Reload the page.")
                else:
                    if codes is None:
                        form.add_error("code", "That code is not right. Try the one shown now.")
            attempt.failed = codes is None
        if codes:
            second_factor.mark_passed(request)
            return render(
                request,
                "accounts/second_factor_codes.html",
                {"codes": codes, "next": next_url or reverse("admin:index")},
            )
    secret, _stale = otp.decrypt_secret(factor.secret)
    context = {
        "form": form,
        "next": next_url,
        "started": True,
        "qr": otp.qr_svg_data_uri(otp.provisioning_uri(secret, account=request.user.email)),
        "secret": otp.grouped(secret),
    }
    status = 400 if form.errors else 200
    return render(request, "accounts/second_factor_setup.html", context, status=status)


@sensitive_post_parameters("code")
@never_cache
@_staff_only
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if second_factor.passed(request):
        return HttpResponseRedirect(next_url or reverse("admin:index"))
    factor = selectors.second_factor_get(user_id=request.user.id)
    if factor is None or not factor.confirmed:
        return redirect(_second_factor_url("accounts:second_factor_setup", next_url))
    form = forms.SecondFactorForm(request.POST or None)
    if request.method == "POST":
        kind = None
        with ratelimits.second_factor_attempt(user_id=request.user.id) as attempt:
            if form.is_valid():
                kind = services.second_factor_verify(
                    user=request.user, code=form.cleaned_data["code"]
                )
                if kind is None:
                    form.add_error("code", "That code is not right, or it was used already.")
            attempt.failed = kind is None
        if kind:
            second_factor.mark_passed(request)
            if kind == "recovery":
                messages.warning(
                    request,
                    "You used a recovery code; it no longer works. If you lost your "
                    "authenticator app, ask a superuser to reset your second factor.",
                )
            return HttpResponseRedirect(next_url or reverse("admin:index"))
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/second_factor_verify.html",
        {"form": form, "next": next_url},
        status=status,
    )
