"""A middleware that reads DynamoDB after the view, as a later app's might."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from nebula.dynamo.cache import CacheEntry


class ReadAfterViewMiddleware:
    """Read one item in the response phase, catching nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        CacheEntry.count("some-key")
        return response
