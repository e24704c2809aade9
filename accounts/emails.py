"""The mails accounts send: built here, sent beside the request by ``nebula.mail``."""

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from nebula import mail

from . import tokens
from .models import User


def _absolute(request: HttpRequest, path: str) -> str:
    # A fixed site address when configured: the Host header must not choose
    # where a password-reset link points.
    if settings.NEBULA_SITE_URL:
        return settings.NEBULA_SITE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    mail.send(to=to, subject=subject, body=render_to_string(template, context))


def send_verification(*, request: HttpRequest, user: User) -> None:
    link = _absolute(
        request, reverse("accounts:verify_email", args=[tokens.verification_token(user)])
    )
    _send(
        to=user.email,
        subject="Confirm your email address for Nebula",
        template="accounts/email/verify.txt",
        # No name, here or in the email-change mail: the address is not
        # verified, so whoever chose the name may not own it.
        context={
            "link": link,
            "expires_hours": settings.NEBULA_EMAIL_LINK_MAX_AGE // 3600,
        },
    )


def send_email_change(*, request: HttpRequest, user: User, new_email: str) -> None:
    link = _absolute(
        request,
        reverse("accounts:email_confirm", args=[tokens.email_change_token(user, new_email)]),
    )
    _send(
        to=new_email,
        subject="Confirm your new email address for Nebula",
        template="accounts/email/email_change.txt",
        context={
            "link": link,
            "new_email": new_email,
            "expires_hours": settings.NEBULA_EMAIL_LINK_MAX_AGE // 3600,
        },
    )


def send_password_reset(*, request: HttpRequest, user: User) -> None:
    link = _absolute(
        request,
        reverse(
            "accounts:password_reset_confirm",
            args=[tokens.encode_uid(user), tokens.password_reset_tokens.make_token(user)],
        ),
    )
    _send(
        to=user.email,
        subject="Reset your Nebula password",
        template="accounts/email/password_reset.txt",
        context={
            "user": user,
            "link": link,
            "expires_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )
