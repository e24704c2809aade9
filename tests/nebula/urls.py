"""Extra views the tests need on top of the site's own URLs."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from nebula.dynamo.cache import CacheEntry

handler500 = "nebula.views.server_error"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def read_one(request: HttpRequest) -> HttpResponse:
    exists = CacheEntry.count("some-key") > 0
    return HttpResponse(f"exists={exists}")


def post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted")


def remember(request: HttpRequest) -> HttpResponse:
    """Change the session without reading DynamoDB: the save is the response phase's."""
    request.session["remembered"] = True
    return HttpResponse("remembered")


urlpatterns = [
    path("boom/", boom),
    path("read-one/", read_one),
    path("post/", post_only),
    path("remember/", remember),
    path("", include("nebula.urls")),
]
