"""The contact page: parse with a form, call a service, mail, render."""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from nebula.http import client_ip

from . import emails, forms, ratelimits, services

logger = logging.getLogger(__name__)


def _initial(request: HttpRequest) -> dict[str, str]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"email": user.email, "name": getattr(user, "display_name", "")}


@never_cache
@ratelimits.contact_per_ip
@ratelimits.contact_per_address
def contact(request: HttpRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = forms.ContactForm(posted, initial=_initial(request))
    if request.method == "POST":
        if form.honeypot_filled():
            # Answered like a success, so a bot learns nothing; nothing stored or sent.
            logger.info("contact form: honeypot filled by %s; dropped", client_ip(request))
            return redirect("contact:sent")
        if form.is_valid():
            data = form.cleaned_data
            user = request.user
            message = services.message_create(
                name=data["name"],
                email=data["email"],
                subject=data["subject"],
                message=data["message"],
                user_id=str(user.pk) if user.is_authenticated else None,
            )
            logger.info("contact message %s stored", message.id)
            emails.send_received(request=request, message=message)
            return redirect("contact:sent")
    status = 400 if form.is_bound else 200
    return render(request, "contact/contact.html", {"form": form}, status=status)


def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "contact/sent.html")
