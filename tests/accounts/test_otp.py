"""The second factor's pure parts: codes, the clock window, recovery codes, the cipher."""

import urllib.parse

import pyotp
import pytest

from accounts import otp

pytestmark = pytest.mark.no_dynamodb

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_000.0  # a fixed moment: step 60_000_000


def _code(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


def test_a_code_names_its_step_within_one_step_of_now() -> None:
    step = otp.current_step(NOW)

    assert otp.totp_matching_step(SECRET, _code(step), now=NOW) == step
    assert otp.totp_matching_step(SECRET, _code(step - 1), now=NOW) == step - 1
    assert otp.totp_matching_step(SECRET, _code(step + 1), now=NOW) == step + 1
    assert otp.totp_matching_step(SECRET, _code(step - 2), now=NOW) is None
    assert otp.totp_matching_step(SECRET, _code(step + 2), now=NOW) is None


def test_a_code_of_a_step_already_used_is_refused() -> None:
    step = otp.current_step(NOW)

    assert otp.totp_matching_step(SECRET, _code(step), after_step=step, now=NOW) is None
    assert otp.totp_matching_step(SECRET, _code(step - 1), after_step=step - 1, now=NOW) is None
    assert otp.totp_matching_step(SECRET, _code(step), after_step=step - 1, now=NOW) == step


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_only_six_ascii_digits_are_a_totp_code(typed: str) -> None:
    assert not otp.is_totp_code(typed)
    assert otp.totp_matching_step(SECRET, typed, now=NOW) is None


def test_recovery_codes_are_ten_distinct_80_bit_codes_typed_in_any_case_or_spacing() -> None:
    codes = otp.new_recovery_codes()

    assert len(set(codes)) == 10
    for code in codes:
        assert otp.is_recovery_code(otp.normalize_code(code))
        assert len(otp.normalize_code(code)) == 16  # 16 base32 characters: 80 bits
        typed = code.upper().replace("-", " ")
        assert otp.recovery_code_hash(user_id="u1", code=typed) == otp.recovery_code_hash(
            user_id="u1", code=code
        )
    # Salted with the user: one user's hash says nothing about another's code.
    assert otp.recovery_code_hash(user_id="u1", code=codes[0]) != otp.recovery_code_hash(
        user_id="u2", code=codes[0]
    )


def test_the_qr_code_is_an_svg_image_without_script() -> None:
    uri = otp.qr_svg_data_uri(otp.provisioning_uri(SECRET, account="ann@example.com"))

    svg = urllib.parse.unquote(uri.split(",", 1)[1])
    assert uri.startswith("data:image/svg+xml")
    assert svg.startswith("<svg")
    assert "<script" not in svg


def test_the_provisioning_uri_names_the_issuer_and_the_account(settings) -> None:
    settings.NEBULA_OTP_ISSUER = "Nebula staging"

    uri = otp.provisioning_uri(SECRET, account="ann@example.com")

    assert uri.startswith("otpauth://totp/Nebula%20staging:ann%40example.com?")
    assert f"secret={SECRET}" in uri


def test_a_secret_encrypts_under_the_current_key_and_decrypts_under_an_old_one(settings) -> None:
    settings.NEBULA_OTP_ENCRYPTION_KEY = "old-" + "k" * 8 + "0123456789abcdef0123456789"
    token = otp.encrypt_secret(SECRET)
    assert SECRET not in token
    assert otp.decrypt_secret(token) == (SECRET, False)

    settings.NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = [settings.NEBULA_OTP_ENCRYPTION_KEY]
    settings.NEBULA_OTP_ENCRYPTION_KEY = "new-" + "n" * 8 + "fedcba9876543210fedcba9876"
    assert otp.decrypt_secret(token) == (SECRET, True)  # readable; re-encrypt it

    settings.NEBULA_OTP_ENCRYPTION_KEY_FALLBACKS = []
    with pytest.raises(otp.UndecryptableSecretError):
        otp.decrypt_secret(token)


def test_without_a_dedicated_key_the_secret_key_is_used(settings) -> None:
    settings.NEBULA_OTP_ENCRYPTION_KEY = ""
    token = otp.encrypt_secret(SECRET)

    settings.SECRET_KEY = "another-secret-key-" + "z" * 40
    with pytest.raises(otp.UndecryptableSecretError):
        otp.decrypt_secret(token)
