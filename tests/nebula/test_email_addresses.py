"""One mailbox, one address: what is stored, mailed and kept unique (no stand-in needed)."""

import pytest

from nebula.email_addresses import InvalidEmailError, canonical_email, email_key


@pytest.fixture(autouse=True)
def dynamodb() -> None:
    """Pure functions: no DynamoDB stand-in."""


@pytest.mark.parametrize(
    "typed",
    [
        "alice@example.com",
        "alice@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth "example"
        "alice@EXAMPLE.\uff43\uff4f\uff4d",  # fullwidth "com"
        "alice@exa\u00admple.com",  # a soft hyphen inside
        "alice@example\u3002com",  # an ideographic full stop
        "  alice@Example.COM ",
    ],
)
def test_every_spelling_of_a_domain_is_the_one_mail_goes_to(typed: str) -> None:
    assert canonical_email(typed) == "alice@example.com"
    assert email_key(typed) == "alice@example.com"


def test_an_international_domain_is_stored_in_its_ascii_form() -> None:
    assert canonical_email("ann@b\u00fccher.example") == "ann@xn--bcher-kva.example"
    assert canonical_email("ann@XN--BCHER-KVA.example") == "ann@xn--bcher-kva.example"


def test_the_local_part_keeps_its_case_but_uniqueness_ignores_it() -> None:
    assert canonical_email("Alice.Smith@Example.com") == "Alice.Smith@example.com"
    assert email_key("Alice.Smith@Example.com") == email_key("alice.smith@example.com")


def test_dots_and_tags_in_the_local_part_are_other_addresses() -> None:
    keys = {email_key(a) for a in ("ab@example.com", "a.b@example.com", "ab+x@example.com")}

    assert len(keys) == 3


def test_a_kelvin_sign_is_a_k() -> None:
    # NFC turns U+212A into "K"; Django's pattern lets it through case-insensitively.
    assert canonical_email("\u212aate@example.com") == "Kate@example.com"


@pytest.mark.parametrize(
    "typed",
    [
        "ann@stra\u00dfe.de",  # a sharp s
        "ann@exa\u200dmple.com",  # a zero-width joiner
        "ann@\U0001f600.com",  # not in Unicode 3.2, IDNA 2003's repertoire
        "ann@xn--zzzz.com",  # an xn-- label that encodes nothing
        "ann@" + "\u00fc" * 60 + ".com",  # a label too long once encoded
    ],
)
def test_a_domain_that_cannot_be_made_canonical_is_refused(typed: str) -> None:
    with pytest.raises(InvalidEmailError, match="xn-- form"):
        canonical_email(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ann",
        "ann@",
        "@example.com",
        "\u017fam@example.com",  # a long s: a different, non-ASCII local part
        "ann@exa_mple.com",
        "ann@example.com.",
        "a\nb@example.com",
        "x" * 20 + "@" + ".".join(c * 60 for c in "abcd") + ".com",  # 267 characters
    ],
)
def test_text_that_is_no_address_is_refused(typed: str) -> None:
    with pytest.raises(InvalidEmailError):
        canonical_email(typed)
