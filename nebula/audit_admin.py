"""The audit log's admin page: every admin action, newest first, by actor or entity.

Registered by ``NebulaAdminSite`` itself (the log belongs to no app). Each row
links its actor and entity to their own history here, and the entity to its
admin page when an app declared one (``AdminSection.entity_urls``).
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from datalayer.cursors import InvalidCursorError

from .audit import AuditEntry, audit_list, is_entity_type, is_token
from .forms import NebulaForm

ENTRIES_PER_PAGE = 50


def _validate_token(value: str) -> None:
    if value and not is_token(value):
        raise forms.ValidationError("Letters, digits and . _ : @ + - only, at most 128.")


class AuditFilterForm(NebulaForm):
    actor = forms.CharField(label="Actor id", required=False, validators=[_validate_token])
    entity_type = forms.CharField(label="Entity type", required=False, max_length=32)
    entity_id = forms.CharField(label="Entity id", required=False, validators=[_validate_token])
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_entity_type(self) -> str:
        value = self.cleaned_data["entity_type"]
        if value and not is_entity_type(value):
            raise forms.ValidationError("A lower-case name such as “user”.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("entity_type")) != bool(data.get("entity_id")):
            raise forms.ValidationError("Give both the entity type and its id, or neither.")
        return data


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page shows it."""

    entry: AuditEntry
    entity_url: str | None


def _query(params: QueryDict, **changes: str | None) -> str:
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    return "?" + query.urlencode()


def audit_log(request: HttpRequest) -> HttpResponse:
    """List the log a page at a time; a bad filter or cursor answers 400 with a message."""
    form = AuditFilterForm(request.GET)
    rows: list[AuditRow] = []
    next_url = None
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        entity = (data["entity_type"], data["entity_id"]) if data["entity_type"] else None
        try:
            page = audit_list(
                actor_id=data["actor"] or None,
                entity=entity,
                cursor=data["cursor"] or None,
                limit=ENTRIES_PER_PAGE,
            )
        except InvalidCursorError:
            form.add_error(None, "That page link is not valid. Start again from the first page.")
            status = 400
        else:
            site: Any = admin.site
            rows = [
                AuditRow(
                    entry=entry, entity_url=site.entity_url(entry.entity_type, entry.entity_id)
                )
                for entry in page.entries
            ]
            if page.next_cursor:
                next_url = _query(request.GET, cursor=page.next_cursor)
    else:
        status = 400
    context = {
        **admin.site.each_context(request),
        "title": "Audit log",
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "first_url": _query(request.GET, cursor=None) if request.GET.get("cursor") else None,
        "filtered": bool(request.GET.get("actor") or request.GET.get("entity_id")),
    }
    return render(request, "admin/nebula_audit.html", context, status=status)
