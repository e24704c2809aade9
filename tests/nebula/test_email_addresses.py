"""One mailbox, one address: what is stored, mailed and kept unique (no stand-in needed)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from datalayer.emails import is_valid_address
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


# What Django's validate_email decides, for the copy of its rules in datalayer.emails.
_ADDRESS_CHARS = st.sampled_from(
    [*"aZ09.-_+!#$%&'*/=?^`{|}~\"\\ @[]:", "\u00fc", "\u017f", "\u212a", "\x00", "\n"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(_ADDRESS_CHARS, max_size=40),
        st.builds(
            "{}@{}".format,
            st.text(_ADDRESS_CHARS, min_size=1, max_size=12),
            st.sampled_from(
                [
                    "example.com",
                    "localhost",
                    "[127.0.0.1]",
                    "[::1]",
                    "[1.2.3]",
                    "a-.com",
                    "xn--bcher-kva.example",
                    "example.c",
                    "-a.com",
                    "[IPv6:::1]",
                    "a.b.c.d",
                ]
            ),
        ),
    )
)
def test_the_copied_rules_decide_as_djangos_validate_email(value: str) -> None:
    try:
        validate_email(value)
    except ValidationError:
        django_says = False
    else:
        django_says = True
    assert is_valid_address(value) == django_says
