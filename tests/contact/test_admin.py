"""Contact messages in the admin: staff only; list, read, mark handled, reply, page through."""

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.core import mail
from django.utils import timezone

from contact import services
from contact.models import MAIL_FAILED, MAIL_SENT, STATUS_HANDLED, STATUS_NEW, ContactMessage
from contact.selectors import message_get
from nebula.audit import audit_list
from tests.contact.conftest import csrf_token, form_token

LIST = "/admin/contact/messages/"


@pytest.fixture
def message() -> ContactMessage:
    return services.message_create(
        name="Ann", email="ann@example.com", subject="A question", message="How long?"
    )


def test_the_admin_index_lists_contact_messages(staff_client) -> None:
    index = staff_client.get("/admin/")

    assert b"Contact messages" in index.content
    assert LIST.encode() in index.content


def test_staff_see_new_messages_and_read_one(staff_client, message) -> None:
    listing = staff_client.get(LIST)
    detail = staff_client.get(f"{LIST}{message.id}/")

    assert listing.status_code == 200
    assert b"A question" in listing.content
    assert f"{LIST}{message.id}/".encode() in listing.content
    assert detail.status_code == 200
    assert b"How long?" in detail.content
    assert b"ann@example.com" in detail.content


def test_anonymous_visitors_are_sent_to_sign_in(client, message) -> None:
    for path in (LIST, f"{LIST}{message.id}/"):
        response = client.get(path, follow=True)

        assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")
        assert b"How long?" not in response.content


def test_signed_in_users_who_are_not_staff_are_turned_away(signed_in, message) -> None:
    for path in (LIST, f"{LIST}{message.id}/"):
        response = signed_in.get(path, follow=True)

        assert response.status_code == 403
        assert b"no access to the admin" in response.content
        assert b"How long?" not in response.content


def test_non_staff_cannot_mark_handled_or_reply(signed_in, message) -> None:
    signed_in.post(f"{LIST}{message.id}/handle/")
    signed_in.post(f"{LIST}{message.id}/reply/", {"subject": "Hi", "body": "Pwned"})

    stored = message_get(message_id=message.id)
    assert stored.status == STATUS_NEW
    assert stored.replies == []
    assert mail.outbox == []


def test_staff_mark_a_message_handled(staff_client, staff, message) -> None:
    page = staff_client.get(f"{LIST}{message.id}/")

    response = staff_client.post(
        f"{LIST}{message.id}/handle/", {"csrfmiddlewaretoken": form_token(page.content)}
    )

    assert response.status_code == 302
    stored = message_get(message_id=message.id)
    assert stored.status == STATUS_HANDLED
    assert (stored.handled_by, stored.handled_by_email) == (staff.id, "helper@example.com")
    assert stored.handled_at is not None
    assert b"A question" not in staff_client.get(LIST).content
    assert b"A question" in staff_client.get(LIST, {"status": "handled"}).content
    [entry] = audit_list(entity=("contact_message", message.id)).entries
    assert (entry.actor_id, entry.actor_label, entry.action) == (
        staff.id,
        "helper@example.com",
        "contact_message.handle",
    )
    assert entry.entity_label == f"message {message.id[:8]}"
    assert (entry.before, entry.after) == (
        {"status": "new"},
        {"status": "handled", "handled_by": "helper@example.com"},
    )
    assert entry.at == stored.handled_at
    log = staff_client.get("/admin/audit/", {"actor": staff.id}).content.decode()
    assert "contact_message.handle" in log
    assert f'href="{LIST}{message.id}/"' in log


def test_marking_handled_needs_a_post_with_a_csrf_token(staff_client, message) -> None:
    assert staff_client.get(f"{LIST}{message.id}/handle/").status_code == 405
    assert staff_client.post(f"{LIST}{message.id}/handle/").status_code == 403
    assert message_get(message_id=message.id).status == STATUS_NEW
    assert audit_list().entries == []


def test_marking_handled_twice_says_so(staff_client, message) -> None:
    url = f"{LIST}{message.id}/handle/"
    staff_client.post(url, {"csrfmiddlewaretoken": csrf_token(staff_client)})

    response = staff_client.post(
        url, {"csrfmiddlewaretoken": csrf_token(staff_client)}, follow=True
    )

    assert b"was handled already" in response.content
    assert len(audit_list(entity=("contact_message", message.id)).entries) == 1


def test_staff_reply_by_mail_and_the_reply_is_kept(staff_client, message) -> None:
    page = staff_client.get(f"{LIST}{message.id}/")

    response = staff_client.post(
        f"{LIST}{message.id}/reply/",
        {
            "csrfmiddlewaretoken": form_token(page.content),
            "subject": "Re: A question",
            "body": "Up to 15 minutes.\nBest, Nebula",
        },
    )

    assert response.status_code == 302
    [reply_mail] = mail.outbox
    assert reply_mail.to == ["ann@example.com"]
    assert reply_mail.subject == "Re: A question"
    assert reply_mail.body == "Up to 15 minutes.\nBest, Nebula"
    [reply] = message_get(message_id=message.id).replies
    assert (reply.by_email, reply.body, reply.mail_status) == (
        "helper@example.com",
        "Up to 15 minutes.\nBest, Nebula",
        MAIL_SENT,
    )
    assert b"Up to 15 minutes." in staff_client.get(f"{LIST}{message.id}/").content
    [entry] = audit_list(entity=("contact_message", message.id)).entries
    assert (entry.actor_label, entry.action) == ("helper@example.com", "contact_message.reply")
    assert (entry.before, entry.after) == (
        {"replies": 0},
        {"replies": 1, "reply_to": "ann@example.com", "reply_subject": "Re: A question"},
    )


def test_a_reply_needs_a_csrf_token(staff_client, message) -> None:
    response = staff_client.post(f"{LIST}{message.id}/reply/", {"subject": "Re", "body": "Hi"})

    assert response.status_code == 403
    assert message_get(message_id=message.id).replies == []
    assert mail.outbox == []
    assert audit_list().entries == []


def test_a_reply_with_a_line_break_in_its_subject_is_refused(staff_client, message) -> None:
    response = staff_client.post(
        f"{LIST}{message.id}/reply/",
        {
            "csrfmiddlewaretoken": csrf_token(staff_client),
            "subject": "Re\nBcc: eve@example.com",
            "body": "Hi",
        },
    )

    assert response.status_code == 400
    assert b"no line breaks" in response.content
    assert message_get(message_id=message.id).replies == []
    assert mail.outbox == []


def test_a_reply_that_cannot_be_mailed_is_kept_with_the_reason(
    staff_client, message, settings
) -> None:
    settings.EMAIL_BACKEND = "tests.contact.conftest.BrokenBackend"

    staff_client.post(
        f"{LIST}{message.id}/reply/",
        {"csrfmiddlewaretoken": csrf_token(staff_client), "subject": "Re", "body": "Hi"},
    )

    [reply] = message_get(message_id=message.id).replies
    assert reply.mail_status == MAIL_FAILED
    assert reply.mail_error == "ConnectionRefusedError: the mail server is down"
    assert b"the mail server is down" in staff_client.get(f"{LIST}{message.id}/").content


def test_an_unknown_message_is_a_404(staff_client) -> None:
    assert staff_client.get(f"{LIST}{'0' * 32}/").status_code == 404
    assert staff_client.get(f"{LIST}not-an-id/").status_code == 404


def _many(count: int, status: str, first_id: int = 0) -> list[str]:
    """Store ``count`` messages a minute apart; return their ids, newest first."""
    start = timezone.now() - timedelta(days=1)
    ids = []
    with ContactMessage.batch_write() as batch:
        for n in range(count):
            item = ContactMessage(
                f"{first_id + n:032x}",
                created=start + timedelta(minutes=n),
                name="Ann",
                email="ann@example.com",
                subject=f"Message {n}",
                message="Hi",
                status=status,
            )
            batch.save(item)
            ids.append(item.id)
    return ids[::-1]


def _ids_on(page: bytes) -> list[str]:
    return re.findall(rb'href="/admin/contact/messages/([0-9a-f]{32})/"', page)


def test_the_list_pages_through_every_message_newest_first(staff_client) -> None:
    newest_first = _many(30, STATUS_NEW)
    _many(3, STATUS_HANDLED, first_id=100)  # never in the list of new ones

    first = staff_client.get(LIST)
    [next_url] = re.findall(rb'href="([^"]+)" rel="next"', first.content)
    second = staff_client.get(next_url.decode().replace("&amp;", "&"))

    seen = [i.decode() for i in _ids_on(first.content) + _ids_on(second.content)]
    assert len(_ids_on(first.content)) == 25
    assert seen == newest_first
    assert b'rel="next"' not in second.content
    assert b"First page" in second.content


def test_a_forged_cursor_is_refused(staff_client) -> None:
    response = staff_client.get(LIST, {"cursor": "eyJpZCI6eyJTIjoieCJ9fQ"})

    assert response.status_code == 400


def test_a_cursor_of_one_list_does_not_page_another(staff_client) -> None:
    _many(26, STATUS_NEW)
    first = staff_client.get(LIST)
    cursor = unquote(re.search(rb"cursor=([^\"&]+)", first.content).group(1).decode())

    response = staff_client.get(LIST, {"status": "handled", "cursor": cursor})

    assert response.status_code == 400
