"""The consistency check: read every table as stored and list what is half-written or invalid.

A fault (DynamoDB hung or gone mid-request) or hostile input must never leave an item
that breaks an invariant the code relies on. This reads the tables directly with boto3
(not through the models, which would hide what they cannot parse) and returns one
line per problem; an empty list means consistent:

* every user is whole (id, canonical address, password hash, flags, version), its
  display name obeys the form's rules, and it has exactly the one email claim of its
  address; every claim belongs to a user that has that address;
* every session is a hashed key with an expiry and its times, its data decodes, and a
  signed-in one names an existing user, the same as the user in its data;
* every session list belongs to an existing user; each of its live entries is a live
  session item of that user showing the same times, address and expiry, and every live
  signed-in session has that entry (a session written without its entry, or an entry
  left by a session ended, is the half-written state this catches);
* every second factor belongs to a user;
* every job has a legal kind and status, the by-status key exactly while queued or
  running, a reason once failed and a result once succeeded, progress within 0 to 100;
* every contact message is whole, within the form's limits, with a legal status.

Usable from any test: ``check_tables(client, prefix)`` with a boto3 DynamoDB client on
the server under test and the site's table prefix.
"""

import json
import re
import time
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from accounts.models import SESSION_ENTRY_PREFIX, SESSION_LIST_PREFIX
from accounts.selectors import normalize_email
from accounts.session_store import SessionStore
from contact.models import (
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
)
from datalayer.jobs import LIVE_STATUSES, JobKind, JobStatus
from nebula.email_addresses import InvalidEmailError, canonical_email
from nebula.validators import validate_one_line_text

HEX32 = re.compile(r"[0-9a-f]{32}")
DISPLAY_NAME_MAX = 80
CONTACT_STATUSES = {"new", "handled"}
MAIL_STATES = {"pending", "sent", "failed"}


def scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """Yield every item of ``table`` as plain Python values (strong reads)."""
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            yield {name: _plain(value) for name, value in item.items()}


def _plain(value: dict[str, Any]) -> Any:
    (kind, inner), *_ = value.items()
    if kind == "N":
        return float(inner) if "." in inner else int(inner)
    if kind == "L":
        return [_plain(v) for v in inner]
    if kind == "M":
        return {k: _plain(v) for k, v in inner.items()}
    return inner  # S, B, BOOL, SS, NULL


def _one_line_ok(text: str) -> bool:
    try:
        validate_one_line_text(text)
    except Exception:  # noqa: BLE001 - any refusal means invalid
        return False
    return True


def _is_canonical(address: str) -> bool:
    try:
        return canonical_email(address) == address
    except InvalidEmailError:
        return False


def check_tables(client: Any, prefix: str) -> list[str]:
    """Return one line per inconsistency found in the tables under ``prefix``."""
    problems: list[str] = []
    users = {item["id"]: item for item in scan(client, f"{prefix}users")}
    claims = {item["email"]: item for item in scan(client, f"{prefix}email-claims")}

    claims_of: dict[str, list[str]] = {}
    for key, claim in claims.items():
        claims_of.setdefault(claim.get("user_id", ""), []).append(key)
        user = users.get(claim.get("user_id", ""))
        if user is None:
            problems.append(f"email claim {key!r} names no user ({claim.get('user_id')!r})")
        elif normalize_email(user.get("email", "")) != key:
            problems.append(f"email claim {key!r} is not user {user['id']}'s address")

    for user_id, user in users.items():
        problems.extend(f"user {user_id}: {p}" for p in _user_problems(user))
        expected = normalize_email(user.get("email", ""))
        if claims_of.get(user_id, []) != [expected]:
            problems.append(
                f"user {user_id}: claims {claims_of.get(user_id, [])!r}, expected [{expected!r}]"
            )

    problems.extend(_sessions_problems(client, prefix, users))

    for factor in scan(client, f"{prefix}second-factors"):
        if factor.get("user_id") not in users:
            problems.append(f"second factor of missing user {factor.get('user_id')!r}")

    for job in scan(client, f"{prefix}jobs"):
        problems.extend(f"job {job.get('id')}: {p}" for p in _job_problems(job))

    for message in scan(client, f"{prefix}contact-messages"):
        problems.extend(
            f"contact message {message.get('id')}: {p}" for p in _message_problems(message)
        )
    return problems


def _user_problems(user: dict[str, Any]) -> list[str]:
    problems = []
    if not HEX32.fullmatch(user.get("id", "")):
        problems.append("id is not 32 hex characters")
    email = user.get("email")
    if not isinstance(email, str) or not _is_canonical(email):
        problems.append(f"address {email!r} is not a canonical address")
    if not isinstance(user.get("password"), str):
        problems.append("no password (not even an unusable one)")
    for flag in ("is_active", "is_staff", "is_superuser", "email_verified"):
        if not isinstance(user.get(flag), bool):
            problems.append(f"{flag} missing")
    if not isinstance(user.get("version"), int):
        problems.append("version missing")
    if "date_joined" not in user:
        problems.append("date_joined missing")
    name = user.get("display_name", "")
    if len(name) > DISPLAY_NAME_MAX or name != name.strip() or not _one_line_ok(name):
        problems.append(f"display name {name[:40]!r} breaks the form's rules")
    return problems


def _sessions_problems(client: Any, prefix: str, users: dict[str, dict]) -> list[str]:
    problems = []
    sessions, lists = [], {}
    for item in scan(client, f"{prefix}sessions"):
        key = item.get("key", "?")
        if key.startswith(SESSION_LIST_PREFIX):
            lists[key.removeprefix(SESSION_LIST_PREFIX)] = item
        else:
            sessions.append(item)
    for session in sessions:
        problems.extend(
            f"session {session.get('key', '?')[:12]}…: {p}"
            for p in _session_problems(session, users)
        )
    problems.extend(_session_list_problems(sessions, lists, users))
    return problems


def _session_problems(session: dict[str, Any], users: dict[str, dict]) -> list[str]:
    problems = []
    for name in ("key", "data", "expires", "created", "last_seen"):
        if name not in session:
            problems.append(f"{name} missing")
    user_id = session.get("user_id")
    if user_id is not None and user_id not in users:
        problems.append(f"signed in as a missing user {user_id}")
    if "data" in session:
        data = SessionStore().decode(session["data"])
        if not data and session["data"]:
            problems.append("data does not decode")
        elif data.get("_auth_user_id") != user_id:
            problems.append(f"data's user {data.get('_auth_user_id')!r} is not {user_id!r}")
    return problems


_SESSION_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # PynamoDB's UTCDateTimeAttribute


def _stamp(text: Any) -> float | None:
    try:
        return datetime.strptime(text, _SESSION_TIME_FORMAT).timestamp()
    except (TypeError, ValueError):
        return None


def _entries(item: dict[str, Any]) -> tuple[dict[str, dict], list[str]]:
    entries, problems = {}, []
    for name, value in item.items():
        if name == "key":
            continue
        if not name.startswith(SESSION_ENTRY_PREFIX):
            problems.append(f"unexpected attribute {name!r}")
            continue
        try:
            entry = json.loads(value)
        except (TypeError, ValueError):
            entry = None
        if not isinstance(entry, dict) or not {"d", "i", "c", "l", "e"} <= entry.keys():
            problems.append(f"entry {name[:14]}… does not decode")
            continue
        entries[name.removeprefix(SESSION_ENTRY_PREFIX)] = entry
    return entries, problems


def _entry_differences(entry: dict[str, Any], session: dict[str, Any]) -> list[str]:
    differences = []
    if entry["e"] != session.get("expires"):
        differences.append("expiry")
    for field, name in (("c", "created"), ("l", "last_seen")):
        stamp = _stamp(session.get(name))
        if stamp is None or abs(entry[field] - stamp) > 0.01:
            differences.append(name)
    if entry["i"] != session.get("ip"):
        differences.append("ip")
    return differences


def _session_list_problems(
    sessions: list[dict[str, Any]], lists: dict[str, dict], users: dict[str, dict]
) -> list[str]:
    """Check the session lists against the session items (see the module's docstring)."""
    problems = []
    now = time.time()
    live = {s["key"]: s for s in sessions if s.get("user_id") and s.get("expires", 0) > now}
    entries_of = {}
    for user_id, item in lists.items():
        entries, found = _entries(item)
        entries_of[user_id] = entries
        problems.extend(f"session list of {user_id}: {p}" for p in found)
        if user_id not in users:
            problems.append(f"session list of a missing user {user_id}")
        for stored, entry in entries.items():
            if entry["e"] <= now:
                continue  # expired: left out when read, pruned at the next sign-in
            session = live.get(stored)
            if session is None:
                problems.append(f"session list of {user_id}: {stored[:12]}… is no live session")
            elif session["user_id"] != user_id:
                problems.append(f"session list of {user_id}: {stored[:12]}… is another user's")
    for stored, session in live.items():
        entry = entries_of.get(session["user_id"], {}).get(stored)
        if entry is None:
            problems.append(f"session {stored[:12]}…: not in its user's session list")
            continue
        differences = _entry_differences(entry, session)
        if differences:
            problems.append(
                f"session {stored[:12]}…: its list entry differs ({', '.join(differences)})"
            )
    return problems


def _job_problems(job: dict[str, Any]) -> list[str]:
    problems = []
    status, kind = job.get("status"), job.get("kind")
    if status not in set(JobStatus):
        return [f"illegal status {status!r}"]
    if kind not in set(JobKind):
        problems.append(f"illegal kind {kind!r}")
    live = status in LIVE_STATUSES
    if live and job.get("live_status") != status:
        problems.append(f"{status} but its by-status key is {job.get('live_status')!r}")
    if not live and "live_status" in job:
        problems.append(f"{status} yet still in the by-status index")
    if status in (JobStatus.FAILED, JobStatus.COULD_NOT_START) and not job.get("error"):
        problems.append(f"{status} without a reason")
    if status == JobStatus.SUCCEEDED and not job.get("result_key"):
        problems.append("succeeded without a result")
    if not 0 <= job.get("progress", 0) <= 100:
        problems.append(f"progress {job.get('progress')}")
    for name in ("owner_id", "idempotency_key", "deadline", "created", "updated"):
        if name not in job:
            problems.append(f"{name} missing")
    return problems


def _message_problems(message: dict[str, Any]) -> list[str]:
    problems = []
    limits = {"name": NAME_MAX_LENGTH, "subject": SUBJECT_MAX_LENGTH, "message": MESSAGE_MAX_LENGTH}
    for field, limit in limits.items():
        text = message.get(field)
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            problems.append(f"{field} empty, missing or over {limit} characters")
    for field in ("name", "subject"):
        if isinstance(message.get(field), str) and not _one_line_ok(message[field]):
            problems.append(f"{field} has a control character")
    if any(unicodedata.category(c) == "Cs" for c in message.get("message", "")):
        problems.append("message holds a lone surrogate")
    if not _is_canonical(message.get("email", "")):
        problems.append(f"address {message.get('email')!r} is not canonical")
    if message.get("status") not in CONTACT_STATUSES:
        problems.append(f"illegal status {message.get('status')!r}")
    for which in ("confirmation_mail", "notification_mail"):
        if message.get(which, "pending") not in MAIL_STATES:
            problems.append(f"{which} is {message.get(which)!r}")
    return problems
