"""Extra views the tests need on top of the site's own URLs."""

import contextlib

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from pynamodb.exceptions import PynamoDBException

from nebula.dynamo.cache import CacheEntry

handler500 = "nebula.views.server_error"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def read_one(request: HttpRequest) -> HttpResponse:
    exists = CacheEntry.count("some-key") > 0
    return HttpResponse(f"exists={exists}")


def read_twice(request: HttpRequest) -> HttpResponse:
    """Read, shrug off a failure (as the "last seen" stamp does), read again."""
    with contextlib.suppress(PynamoDBException):
        CacheEntry.count("some-key")
    return HttpResponse(f"found={CacheEntry.count('other-key')}")


def post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted")


def remember(request: HttpRequest) -> HttpResponse:
    """Change the session without reading DynamoDB: the save is the response phase's."""
    request.session["remembered"] = True
    return HttpResponse("remembered")


urlpatterns = [
    path("boom/", boom),
    path("read-one/", read_one),
    path("read-twice/", read_twice),
    path("post/", post_only),
    path("remember/", remember),
    path("", include("nebula.urls")),
]
