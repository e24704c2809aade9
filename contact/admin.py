"""Contact messages in the admin: list by status, read, mark handled, reply by mail.

Lists come from the ``by-status`` index a page at a time, the next page named
by an opaque cursor (``datalayer.cursors``: the last message's keys, signed): no
page reads the whole table. Mark handled and reply are audited (``nebula.audit``).
Registered with ``NebulaAdminSite``; every view is staff only.
"""

import logging
import re
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from datalayer.counters import CONTACT_MESSAGES
from nebula.admin import AdminSection
from nebula.dashboard import StatusChart

from . import emails, selectors, services
from .forms import ReplyForm
from .models import STATUS_HANDLED, STATUS_NEW, STATUSES, ContactMessage

logger = logging.getLogger(__name__)

_ID_RE = re.compile(r"[0-9a-f]{32}")


def _context(request: HttpRequest, **extra: object) -> dict:
    return {**admin.site.each_context(request), **extra}


def message_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", STATUS_NEW)
    if status not in STATUSES:
        status = STATUS_NEW
    cursor = request.GET.get("cursor") or None
    error = None
    try:
        page = selectors.message_list_by_status(status=status, cursor=cursor)
    except selectors.InvalidCursorError:
        # An edited, cut or other list's link: say so and show the first page.
        error = "That page link is not valid. Here is the first page."
        cursor = None
        page = selectors.message_list_by_status(status=status)
    next_url = None
    if page.next_cursor:
        query = urlencode({"status": status, "cursor": page.next_cursor})
        next_url = f"{reverse('admin:contact_messages')}?{query}"
    return render(
        request,
        "admin/contact/message_list.html",
        _context(
            request,
            title="Contact messages",
            status=status,
            statuses=STATUSES,
            page=page,
            next_url=next_url,
            first_url=f"{reverse('admin:contact_messages')}?status={status}" if cursor else None,
            reference=emails.reference,
            error=error,
        ),
        status=400 if error else 200,
    )


def _get_or_404(message_id: str) -> ContactMessage:
    message = None
    if _ID_RE.fullmatch(message_id):
        message = selectors.message_get(message_id=message_id)
    if message is None:
        raise Http404("No such message")
    return message


def _reply_form(message: ContactMessage, data: object = None) -> ReplyForm:
    return ReplyForm(data, initial={"subject": f"Re: your message to Nebula ({message.id[:8]})"})


def _detail(
    request: HttpRequest, message: ContactMessage, form: ReplyForm, status: int = 200
) -> HttpResponse:
    context = _context(
        request,
        title=f"Message {emails.reference(message)}",
        subject=message,
        reference=emails.reference(message),
        form=form,
    )
    return render(request, "admin/contact/message_detail.html", context, status=status)


def message_detail(request: HttpRequest, message_id: str) -> HttpResponse:
    message = _get_or_404(message_id)
    return _detail(request, message, _reply_form(message))


@require_POST
def message_handle(request: HttpRequest, message_id: str) -> HttpResponse:
    message = _get_or_404(message_id)
    try:
        changed = services.message_mark_handled(
            message_id=message.id, actor_id=str(request.user.pk), actor_email=request.user.email
        )
    except services.MessageGoneError as exc:
        raise Http404("No such message") from exc
    if changed:
        logger.info("admin %s marked contact message %s handled", request.user.pk, message.id)
        messages.success(request, f"Message {emails.reference(message)} is marked handled.")
    else:
        messages.info(request, f"Message {emails.reference(message)} was handled already.")
    return redirect("admin:contact_message", message_id=message.id)


@require_POST
def message_reply(request: HttpRequest, message_id: str) -> HttpResponse:
    message = _get_or_404(message_id)
    form = _reply_form(message, request.POST)
    if not form.is_valid():
        return _detail(request, message, form, status=400)
    try:
        index = services.message_add_reply(
            message_id=message.id,
            actor_id=str(request.user.pk),
            actor_email=request.user.email,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
        )
    except services.MessageGoneError as exc:
        raise Http404("No such message") from exc
    emails.send_reply(
        message=message,
        index=index,
        subject=form.cleaned_data["subject"],
        body=form.cleaned_data["body"],
    )
    logger.info("admin %s replied to contact message %s", request.user.pk, message.id)
    messages.success(
        request,
        f"Your reply to {message.email} is recorded and on its way; its mail status shows below.",
    )
    return redirect("admin:contact_message", message_id=message.id)


admin.site.register_section(
    AdminSection(
        slug="contact",
        title="Contact messages",
        description="Messages sent through the contact form, new and handled: read them, "
        "reply by mail, mark them handled; see whether their mails went out.",
        index_url_name="admin:contact_messages",
        entity_urls={services.ENTITY_TYPE: "admin:contact_message"},
        urls=[
            path("messages/", admin.site.view(message_list), name="contact_messages"),
            path(
                "messages/<str:message_id>/",
                admin.site.view(message_detail),
                name="contact_message",
            ),
            path(
                "messages/<str:message_id>/handle/",
                admin.site.view(message_handle),
                name="contact_message_handle",
            ),
            path(
                "messages/<str:message_id>/reply/",
                admin.site.view(message_reply),
                name="contact_message_reply",
            ),
        ],
    )
)

admin.site.register_status_chart(
    StatusChart(
        metric=CONTACT_MESSAGES,
        title="Contact messages by status",
        statuses=((STATUS_NEW, "new"), (STATUS_HANDLED, "handled")),
    )
)
