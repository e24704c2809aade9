"""Forms: parse and validate input; the writes happen in services."""

import secrets
from typing import Any

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth import forms as auth_forms
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest

from datalayer.usercsv import DISPLAY_NAME_MAX_LENGTH
from nebula.forms import CanonicalEmailField, NebulaForm
from nebula.validators import validate_one_line_text
from pictures.check import (
    FORMATS,
    MAX_BYTES,
    TOO_LARGE,
    PictureInfo,
    PictureRejectedError,
    check_picture,
)

from .auth import MAX_PASSWORD_LENGTH
from .models import User
from .selectors import normalize_email

EMAIL_MAX_LENGTH = 254


def _password_field(label: str, *, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _cap_passwords(form: forms.Form, *names: str) -> None:
    """Give Django's own password fields our length cap (checked before any hashing)."""
    for name in names:
        field = form.fields[name]
        field.max_length = MAX_PASSWORD_LENGTH
        field.validators.append(MaxLengthValidator(MAX_PASSWORD_LENGTH))
        field.widget.attrs["maxlength"] = str(MAX_PASSWORD_LENGTH)


def _email_field(label: str = "Email address", **kwargs: Any) -> forms.EmailField:
    return CanonicalEmailField(
        label=label,
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def _display_name_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label="Display name",
        max_length=DISPLAY_NAME_MAX_LENGTH,
        required=False,
        validators=[validate_one_line_text],
        **kwargs,
    )


class SignupForm(NebulaForm):
    email = _email_field()
    display_name = _display_name_field(
        help_text="Optional. Shown on your pages instead of your email address.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password1 = _password_field(
        "Password",
        autocomplete="new-password",
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = _password_field("Password again", autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords don’t match.")
        elif password2 and "email" in data:
            candidate = User(email=data["email"], display_name=data.get("display_name", ""))
            try:
                password_validation.validate_password(password2, candidate)
            except forms.ValidationError as error:
                self.add_error("password2", error)
        return data


class LoginForm(NebulaForm):
    email = _email_field()
    password = _password_field("Password", autocomplete="current-password")
    remember = forms.BooleanField(label="Keep me signed in", required=False)

    invalid_login = "The email address or password is not right."

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        # True once a password was checked and refused (what login budgets count).
        self.authentication_failed = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "email" in data and "password" in data:
            self.user = authenticate(self.request, email=data["email"], password=data["password"])
            if self.user is None:
                self.authentication_failed = True
                raise forms.ValidationError(self.invalid_login, code="invalid")
        return data


class PasswordChangeForm(NebulaForm, auth_forms.PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _cap_passwords(self, "old_password", "new_password1", "new_password2")


class SetPasswordForm(NebulaForm, auth_forms.SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _cap_passwords(self, "new_password1", "new_password2")


class PasswordResetForm(NebulaForm):
    email = _email_field()


class ProfileForm(NebulaForm):
    display_name = _display_name_field()
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**53)


class EmailChangeForm(NebulaForm):
    new_email = _email_field("New email address")
    password = _password_field("Your password", autocomplete="current-password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_email(self) -> str:
        email = self.cleaned_data["new_email"]
        if normalize_email(email) == normalize_email(self.user.email):
            raise forms.ValidationError("That is already your email address.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password


class DeleteAccountForm(NebulaForm):
    password = _password_field("Your password", autocomplete="current-password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password


def _code_field(label: str, *, help_text: str, inputmode: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": inputmode,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )


class SecondFactorSetupForm(NebulaForm):
    code = _code_field(
        "Code from your app",
        help_text="The 6 digits your authenticator app shows now.",
        inputmode="numeric",
    )


class SecondFactorForm(NebulaForm):
    code = _code_field(
        "Code",
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        inputmode="text",
    )


def new_idempotency_key() -> str:
    """Return a fresh key for one rendering of the picture form (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


class AvatarForm(NebulaForm):
    """A new profile picture: checked whole (pictures.check) before anything is stored.

    The idempotency key the page was rendered with makes a double submit one job.
    """

    idempotency_key = forms.RegexField(
        regex=r"\A[A-Za-z0-9_-]{16,64}\Z", widget=forms.HiddenInput, max_length=64
    )
    picture = forms.FileField(
        label="New picture",
        help_text=f"PNG, JPEG or WebP, at most {MAX_BYTES // (1024 * 1024)} MB. "
        "We crop it to a square and remove its metadata (such as where a photo was taken).",
        widget=forms.FileInput(
            attrs={"accept": ",".join(f"image/{name.lower()}" for name in FORMATS)}
        ),
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The upload handler stopped reading the file at the limit (nebula.uploads).
        self.too_large = too_large
        self.data_bytes = b""
        self.info: PictureInfo | None = None

    def clean_picture(self) -> Any:
        picture = self.cleaned_data["picture"]
        if picture.size > MAX_BYTES:
            raise forms.ValidationError(TOO_LARGE, code="too_large")
        data = picture.read(MAX_BYTES + 1)
        try:
            self.info = check_picture(data)
        except PictureRejectedError as exc:
            raise forms.ValidationError(str(exc), code="invalid_picture") from exc
        self.data_bytes = data
        return picture

    def full_clean(self) -> None:
        super().full_clean()
        if self.too_large and self.is_bound:
            # Whatever else is missing was cut off with the file: the size is the one error.
            self._errors.clear()
            self.cleaned_data.pop("picture", None)
            self.add_error("picture", forms.ValidationError(TOO_LARGE, code="too_large"))
