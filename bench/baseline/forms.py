"""The same forms as Nebula's login and profile pages, on Django's ORM user."""

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.http import HttpRequest


class SiteForm(forms.Form):
    error_css_class = "field--error"
    required_css_class = "field--required"


def _password_field(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=512,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _email_field(label: str = "Email address") -> forms.EmailField:
    return forms.EmailField(
        label=label, max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class LoginForm(SiteForm):
    email = _email_field()
    password = _password_field("Password", "current-password")
    remember = forms.BooleanField(label="Keep me signed in", required=False)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "email" in data and "password" in data:
            self.user = authenticate(
                self.request, username=data["email"].lower(), password=data["password"]
            )
            if self.user is None:
                raise forms.ValidationError("The email address or password is not right.")
        return data


class ProfileForm(SiteForm):
    display_name = forms.CharField(label="Display name", max_length=80, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**53)


class EmailChangeForm(SiteForm):
    new_email = _email_field("New email address")
    password = _password_field("Your password", "current-password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_email(self) -> str:
        email = self.cleaned_data["new_email"]
        if email.lower() == self.user.email.lower():
            raise forms.ValidationError("That is already your email address.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password


class AvatarForm(SiteForm):
    """Nebula's picture upload, as a plain site writes it: Django's ImageField (Pillow)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    picture = forms.ImageField(
        label="New picture",
        help_text="PNG, JPEG or WebP, at most 5 MB. "
        "We crop it to a square and remove its metadata (such as where a photo was taken).",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
