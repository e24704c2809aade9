"""Hostile input to every route: random unicode, sizes and field combinations, never a 5xx.

Every URL pattern of the site (the resolver is walked, admin included) must have an
entry in ``TARGETS``: who posts to it (anonymous, a member, staff past the second
factor), the fields its form posts and a valid value for each (mixed in, so some
examples pass validation and write). A new route that is not listed fails
``test_every_route_is_fuzzed``: add it to ``TARGETS``.

Each form is first posted valid but for one field, once with each hostile character
(line breaks, NUL, BEL, ESC, bidi override...), empty and overlong; then each example
POSTs (and GETs, for JSON views and pages with query-string forms)
through Django's test client against the moto server; a view that raises fails the
example (the test client re-raises), any 5xx fails it, and after every example the
consistency check (tests/proof/consistency.py) reads every table once the route's
examples ran: nothing any of them wrote may break the forms' rules or be half-written.

Reproducible: ``derandomize=True`` (the examples are a function of the test), so CI
and a developer see the same ones; ``PROOF_FUZZ_EXAMPLES`` (default 6 per route)
sets how many; set ``PROOF_FUZZ_RANDOM=1`` to explore new ones locally.
"""

import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import services as account_services
from contact import services as contact_services
from datalayer.jobs import JobKind, job_could_not_start, job_create
from tests.accounts.conftest import PASSWORD, log_in, log_in_staff
from tests.support import dynamodb_client

from .consistency import check_tables

EXAMPLES = int(os.environ.get("PROOF_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("PROOF_FUZZ_RANDOM") == "1"
PREFIX = "nebula-test-"


@dataclass(frozen=True)
class Target:
    """How to fuzz one route."""

    who: str  # "anonymous", "member" or "staff"
    fields: dict[str, str] = field(default_factory=dict)  # field -> a valid value
    # Path arguments, from the test's world (ids of a real user, job, message).
    kwargs: Callable[[dict[str, str]], dict[str, str]] | None = None
    get_json: bool = False  # a JSON view: GET it with random arguments too
    get_query: bool = False  # a page whose form is GET (filters): fuzz the query string


def _member(world: dict[str, str]) -> dict[str, str]:
    return {"user_id": world["victim_id"]}


def _job(world: dict[str, str]) -> dict[str, str]:
    return {"job_id": world["job_id"]}


def _message(world: dict[str, str]) -> dict[str, str]:
    return {"message_id": world["message_id"]}


NEW_PASSWORD = "a brand new passphrase"
# Every route of the site. Keep in step with the URLconfs: test_every_route_is_fuzzed
# fails on a route missing here (or listed here and gone).
TARGETS: dict[str, Target] = {
    "home": Target("anonymous"),
    "accounts:signup": Target(
        "anonymous",
        {
            "email": "fuzz@example.com",
            "display_name": "Fuzz",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    ),
    "accounts:login": Target(
        "anonymous", {"email": "member@example.com", "password": PASSWORD, "remember": "on"}
    ),
    "accounts:logout": Target("member"),
    "accounts:verify_resend": Target("member"),
    "accounts:verify_email": Target("anonymous", kwargs=lambda w: {"token": w["text"]}),
    "accounts:password_change": Target(
        "member",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    "accounts:password_reset": Target("anonymous", {"email": "member@example.com"}),
    "accounts:password_reset_sent": Target("anonymous"),
    "accounts:password_reset_confirm": Target(
        "anonymous",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        kwargs=lambda w: {"uidb64": w["text"], "token": "set-password"},
    ),
    "accounts:password_reset_complete": Target("anonymous"),
    "accounts:profile": Target(
        "member",
        {
            "action": "profile",
            "display_name": "Fuzzed name",
            "version": "1",
            "new_email": "new-address@example.com",
            "password": PASSWORD,
        },
    ),
    "accounts:email_confirm": Target("member", kwargs=lambda w: {"token": w["text"]}),
    "accounts:sessions": Target("member"),
    "accounts:session_end": Target("member", {"session_id": "0" * 32}),
    "accounts:sessions_end_others": Target("member"),
    "accounts:delete": Target("member", {"password": PASSWORD}),
    "accounts:avatar_upload": Target(
        "member", {"idempotency_key": "a" * 32, "picture": "not a picture"}
    ),
    "accounts:avatar_remove": Target("member"),
    "accounts:avatar_image": Target("member", kwargs=lambda w: {"version": w["text"], "size": 64}),
    "accounts:second_factor_setup": Target("staff", {"code": "123456"}),
    "accounts:second_factor_verify": Target("staff", {"code": "123456"}),
    "contact:contact": Target(
        "anonymous",
        {
            "name": "Fuzz",
            "email": "fuzz@example.com",
            "subject": "Hello",
            "message": "A message.",
            "website": "",
        },
    ),
    "contact:sent": Target("anonymous"),
    "jobs:list": Target("member", get_query=True),
    "jobs:export": Target("member", {"idempotency_key": "k" * 32}),
    "jobs:detail": Target("member", kwargs=_job),
    "jobs:status": Target("member", kwargs=_job, get_json=True),
    "jobs:import": Target("staff", {"idempotency_key": "i" * 32, "file": "email\n"}),
    "jobs:retry": Target("member", {"idempotency_key": "r" * 32}, kwargs=_job),
    "admin:nebula_audit": Target("staff", get_query=True),
    "admin:accounts_users": Target("staff", get_query=True),
    "admin:accounts_user": Target(
        "staff",
        {
            "display_name": "Victim",
            "is_active": "on",
            "email_verified": "on",
            "is_staff": "",
            "is_superuser": "",
            "version": "1",
        },
        kwargs=_member,
    ),
    "admin:accounts_user_end_sessions": Target("staff", kwargs=_member),
    "admin:accounts_user_deactivate": Target("staff", kwargs=_member),
    "admin:accounts_user_reactivate": Target("staff", kwargs=_member),
    "admin:accounts_user_password_reset": Target("staff", kwargs=_member),
    "admin:accounts_user_delete": Target("staff", {"confirm": "yes"}, kwargs=_member),
    "admin:accounts_user_second_factor_reset": Target("staff", kwargs=_member),
    "admin:jobs_jobs": Target("staff", get_query=True),
    "admin:jobs_job": Target("staff", kwargs=_job),
    "admin:jobs_job_retry": Target("staff", kwargs=_job),
    "admin:contact_messages": Target("staff", get_query=True),
    "admin:contact_message": Target("staff", kwargs=_message),
    "admin:contact_message_handle": Target("staff", kwargs=_message),
    "admin:contact_message_reply": Target(
        "staff", {"subject": "Re: hello", "body": "Thank you."}, kwargs=_message
    ),
    "admin:index": Target("staff"),
    "admin:login": Target("anonymous", {"username": "member@example.com", "password": PASSWORD}),
    "admin:logout": Target("staff"),
    "admin:password_change": Target(
        "staff",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    "admin:password_change_done": Target("staff"),
    "admin:jsi18n": Target("staff"),
    "admin/(?P<url>.*)$": Target("staff", kwargs=lambda w: {"url": w["text"]}),
}


def _routes() -> dict[str, URLPattern]:
    """Every URL pattern by name (namespaced), or by its full pattern when unnamed."""
    found: dict[str, URLPattern] = {}

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}{pattern.namespace}:"
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                key = (
                    f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)
                )
                found[key] = pattern

    walk(get_resolver().url_patterns, "", "")
    return found


@pytest.mark.no_dynamodb
def test_every_route_is_fuzzed() -> None:
    routes = set(_routes())

    assert sorted(routes - set(TARGETS)) == [], "routes not fuzzed: add them to TARGETS"
    assert sorted(set(TARGETS) - routes) == [], "TARGETS lists routes that are gone"


# --- Values --------------------------------------------------------------------------------

# Any text without lone surrogates (they cannot be encoded into a request), control
# characters included; and the sizes that find limits: empty, blanks, long, huge.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
SIZES = st.sampled_from(["", " ", "\x00", "\u202e", "x" * 300, "é" * 6000, "y" * 120_000])


# What a valid value turns into: one hostile character slipped in, or anything at all.
HOSTILE = ["\n", "\x00", "\x07", "\x1b", "\u202e", "\u2028"]
INJECTED = st.sampled_from(HOSTILE)


def _mutated(valid: str) -> st.SearchStrategy:
    slipped = st.tuples(st.integers(0, len(valid)), INJECTED).map(
        lambda pair: valid[: pair[0]] + pair[1] + valid[pair[0] :]
    )
    return st.one_of(slipped, TEXT, SIZES, st.lists(TEXT, min_size=2, max_size=3))


def _form(target: Target) -> st.SearchStrategy[dict[str, Any]]:
    """The valid form with some fields changed or left out, and maybe fields it does not know.

    Mostly valid, so that the changed field is what decides: a form that lets a bad
    value through then writes it, and the consistency check sees it.
    """
    names = sorted(target.fields)
    if not names:
        return st.dictionaries(TEXT.filter(bool), TEXT, max_size=3)

    @st.composite
    def form(draw: st.DrawFn) -> dict[str, Any]:
        data: dict[str, Any] = dict(target.fields)
        for name in draw(st.sets(st.sampled_from(names), max_size=len(names))):
            if draw(st.booleans()) and draw(st.booleans()):
                del data[name]
            else:
                data[name] = draw(_mutated(target.fields[name]))
        data.update(
            draw(st.dictionaries(TEXT.filter(lambda k: k and k not in data), TEXT, max_size=2))
        )
        return data

    return form()


def _path_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/"), min_size=1),
        st.sampled_from(["0" * 32, "x" * 3000, ".", "..", "%00", "a.b"]),
    )


# --- The world each route is fuzzed in -------------------------------------------------------


# Routes that end the poster's session or change their password: fuzzed last in their group.
LAST = ("admin:password_change", "accounts:delete", "accounts:logout", "admin:logout")


def _order(who: str) -> list[str]:
    names = sorted(n for n, t in TARGETS.items() if t.who == who)
    return sorted(names, key=lambda n: (LAST.index(n) if n in LAST else -1, n))


def _world(n: int) -> dict[str, Any]:
    """Fresh things for one route: a member, a victim account, a job and a message."""
    member = account_services.user_create(
        email=f"member{n}@example.com", password=PASSWORD, email_verified=True
    )
    victim = account_services.user_create(email=f"victim{n}@example.com", password=PASSWORD)
    job, _ = job_create(
        owner_id=member.id,
        kind=JobKind.EXPORT,
        params={},
        idempotency_key=f"world-{n}".ljust(32, "w"),
        run_seconds=60,
    )
    job_could_not_start(job_id=job.id, reason="The job could not start. Try again later.")
    message = contact_services.message_create(
        name="Sender", email="sender@example.com", subject="Hi", message="Hello."
    )
    return {
        "member_email": member.email,
        "victim_id": victim.id,
        "job_id": job.id,
        "message_id": message.id,
    }


def _path(name: str, target: Target, world: dict[str, Any], text: str) -> str:
    if name.startswith("admin/"):
        return "/admin/" + urllib.parse.quote(text)
    kwargs = target.kwargs({**world, "text": text}) if target.kwargs else {}
    return reverse(name, kwargs=kwargs)


def _assert_answer(response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)


# One test per kind of poster (the tables are reset per test, which costs more than
# the examples): each route gets a fresh world, a member route a freshly signed-in
# member, staff routes one staff member past the second factor.
@pytest.mark.parametrize("who", ["anonymous", "member", "staff"])
def test_no_input_makes_a_5xx_or_an_invalid_item(who: str) -> None:
    dynamodb = dynamodb_client(int(os.environ["AWS_ENDPOINT_URL_DYNAMODB"].rsplit(":", 1)[1]))
    account_services.user_create(email="member@example.com", password=PASSWORD, email_verified=True)
    staff = None
    if who == "staff":
        account_services.user_create(
            email="staff@example.com", password=PASSWORD, is_staff=True, is_superuser=True
        )
        staff = Client()
        log_in_staff(staff, "staff@example.com")
    for n, name in enumerate(_order(who)):
        world = _world(n)
        client = staff or Client()
        if who == "member":
            assert log_in(client, email=world["member_email"]).status_code == 302
        _fuzz_route(name, TARGETS[name], client, world)
        # The tables are emptied per test, not per example: whatever any example wrote
        # is still there to check (once per route: the scans cost more than an example).
        assert check_tables(dynamodb, PREFIX) == [], name


def _fuzz_route(name: str, target: Target, client: Client, world: dict[str, Any]) -> None:
    # First, every field of the valid form once with each hostile character in its
    # middle, once empty and once far too long: the cases a few random examples might
    # miss. Then the random examples.
    for field_name, valid in target.fields.items():
        middle = len(valid) // 2
        for bad in [valid[:middle] + c + valid[middle:] for c in HOSTILE] + ["", "é" * 6000]:
            path = _path(name, target, world, "x")
            data = {**target.fields, field_name: bad}
            _assert_answer(client.post(path, data), f"POST {path} {field_name}={bad[:20]!r}")

    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        deadline=None,  # one huge body takes a while; the run is bounded by max_examples
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(form=_form(target), text=_path_text(), query=st.dictionaries(TEXT, TEXT, max_size=3))
    def fuzz(form: dict[str, Any], text: str, query: dict[str, str]) -> None:
        try:
            path = _path(name, target, world, text)
        except Exception:  # noqa: BLE001 - a path argument the pattern refuses: nothing to send
            path = None
        if path is not None:
            _assert_answer(client.post(path, form), f"POST {path}")
            if target.get_json or target.get_query:
                response = client.get(path, query)
                _assert_answer(response, f"GET {path}")
                if target.get_json and response.status_code == 200:
                    response.json()  # a JSON view answers JSON

    fuzz()
