"""Contact services and selectors against the moto server: what each write leaves behind."""

import pytest
from django.core.exceptions import ValidationError

from contact import selectors, services
from contact.models import (
    CONFIRMATION,
    MAIL_FAILED,
    MAIL_PENDING,
    MAIL_SENT,
    NOTIFICATION,
    STATUS_NEW,
    ContactMessage,
)
from datalayer.counters import counter_get_many
from nebula.mail import Delivery

SENT = Delivery(sent=True)
FAILED = Delivery(sent=False, reason="SMTPException: nope")


def _create(**changes: str) -> ContactMessage:
    fields = {"name": "Ann", "email": "ann@example.com", "subject": "Hi", "message": "Hello"}
    return services.message_create(**{**fields, **changes})


def test_a_new_message_is_new_with_both_mails_pending() -> None:
    message = _create(email=" ann@EXAMPLE.com ")

    stored = selectors.message_get(message_id=message.id)
    assert stored.status == STATUS_NEW
    assert stored.email == "ann@example.com"
    assert stored.mail_status == MAIL_PENDING
    assert stored.replies == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Ann\nBcc: x@example.com"),
        ("subject", "Hi\r\nBcc: x@example.com"),
        ("name", ""),
        ("subject", ""),
    ],
)
def test_the_service_itself_refuses_what_could_reach_a_header(field, value) -> None:
    with pytest.raises(ValidationError):
        _create(**{field: value})

    assert ContactMessage.count() == 0


@pytest.mark.parametrize("order", ["failure first", "failure last"])
def test_one_failed_mail_makes_the_message_failed_in_either_order(order) -> None:
    message = _create()
    outcomes = [(CONFIRMATION, SENT), (NOTIFICATION, FAILED)]
    if order == "failure first":
        outcomes.reverse()

    for which, delivery in outcomes:
        services.message_record_mail(message_id=message.id, which=which, delivery=delivery)

    stored = selectors.message_get(message_id=message.id)
    assert stored.mail_status == MAIL_FAILED
    assert stored.mail_failures == ["notification to staff: SMTPException: nope"]


def test_both_mails_sent_make_the_message_sent() -> None:
    message = _create()

    for which in (CONFIRMATION, NOTIFICATION):
        services.message_record_mail(message_id=message.id, which=which, delivery=SENT)

    assert selectors.message_get(message_id=message.id).mail_status == MAIL_SENT


def test_recording_a_mail_of_a_message_gone_brings_nothing_back() -> None:
    services.message_record_mail(message_id="0" * 32, which=CONFIRMATION, delivery=SENT)

    assert ContactMessage.count() == 0


def test_marking_handled_a_message_that_does_not_exist_raises() -> None:
    with pytest.raises(services.MessageGoneError):
        services.message_mark_handled(message_id="0" * 32, actor_id="a", actor_email="a@x.org")

    assert ContactMessage.count() == 0


def test_a_reply_to_a_message_that_does_not_exist_raises() -> None:
    with pytest.raises(services.MessageGoneError):
        services.message_add_reply(
            message_id="0" * 32, actor_id="a", actor_email="a@x.org", subject="Re", body="Hi"
        )

    assert ContactMessage.count() == 0


def test_each_reply_keeps_its_own_mail_outcome() -> None:
    message = _create()
    first, second = (
        services.message_add_reply(
            message_id=message.id, actor_id="a", actor_email="a@x.org", subject="Re", body=body
        )
        for body in ("one", "two")
    )

    services.reply_record_mail(message_id=message.id, index=second, delivery=FAILED)
    services.reply_record_mail(message_id=message.id, index=first, delivery=SENT)

    replies = selectors.message_get(message_id=message.id).replies
    assert [(r.body, r.mail_status, r.mail_error) for r in replies] == [
        ("one", MAIL_SENT, None),
        ("two", MAIL_FAILED, "SMTPException: nope"),
    ]


def test_a_full_last_page_has_no_next_page() -> None:
    for n in range(3):
        _create(subject=f"Message {n}")

    page = selectors.message_list_by_status(status=STATUS_NEW, page_size=3)

    assert [m.subject for m in page.messages] == ["Message 2", "Message 1", "Message 0"]
    assert page.next_cursor is None


def test_the_next_page_starts_after_the_last_one_shown() -> None:
    for n in range(3):
        _create(subject=f"Message {n}")

    first = selectors.message_list_by_status(status=STATUS_NEW, page_size=2)
    second = selectors.message_list_by_status(
        status=STATUS_NEW, page_size=2, cursor=first.next_cursor
    )

    assert [m.subject for m in first.messages] == ["Message 2", "Message 1"]
    assert [m.subject for m in second.messages] == ["Message 0"]
    assert second.next_cursor is None


def test_a_tampered_cursor_is_refused() -> None:
    for n in range(3):
        _create(subject=f"Message {n}")
    cursor = selectors.message_list_by_status(status=STATUS_NEW, page_size=2).next_cursor

    with pytest.raises(selectors.InvalidCursorError):
        selectors.message_list_by_status(status=STATUS_NEW, cursor=cursor[:-2] + "xx")


# ---- the dashboard's counts ----


def _by_status() -> dict[str, int]:
    return counter_get_many(["contact#new", "contact#handled"])


def test_a_new_message_counts_as_new() -> None:
    _create()
    _create()

    assert _by_status() == {"contact#new": 2, "contact#handled": 0}


def test_marking_handled_moves_the_count_once() -> None:
    message = _create()
    _create()

    services.message_mark_handled(message_id=message.id, actor_id="a" * 32, actor_email="s@x.io")
    services.message_mark_handled(message_id=message.id, actor_id="a" * 32, actor_email="s@x.io")

    assert _by_status() == {"contact#new": 1, "contact#handled": 1}
