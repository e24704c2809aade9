"""Rate limits for any app's views, counted in the shared DynamoDB cache.

Two tools, both counting in ``CACHES["shared"]`` (``nebula.dynamo.cache``), so
every Gunicorn worker and every container sees the same counts, and both taking
their rates from ``settings.NEBULA_RATES`` (``"10/15m"``: 10 per 15 minutes) so
operators can tune them:

* :func:`limit`, a view decorator that counts every POST per key (django-ratelimit
  does the counting: ``add`` + atomic ``incr``);
* :class:`Budget`, a count of failures (a wrong password): an attempt takes a unit
  before it starts and gives it back unless it failed; the count may be cleared.

The contract of a refusal: raise :class:`RateLimited` carrying the window, in
seconds, of the limit that was actually hit. django-ratelimit's middleware hands
it to ``nebula.views.rate_limited``, which answers 429 with that ``Retry-After``.
"""

import contextlib
import functools
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

KeyFunction = Callable[[str, HttpRequest], str]


def period_seconds(rate: str) -> int:
    """Return the window of a rate in seconds ("10/15m" → 900, "5/h" → 3600)."""
    match = re.fullmatch(r"\d+/(\d*)([smhd])", rate)
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    return int(match.group(1) or 1) * _UNITS[match.group(2)]


def allowed_count(rate: str) -> int:
    """Return how many a rate allows per window ("10/15m" → 10)."""
    period_seconds(rate)  # validates the whole rate
    return int(rate.split("/", 1)[0])


class RateLimited(Ratelimited):
    """A request over one of its limits; ``retry_after`` is that limit's window in seconds."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after


def by_user(group: str, request: HttpRequest) -> str:
    """Key a limit by the signed-in user (all anonymous visitors share one count)."""
    return str(request.user.pk) if request.user.is_authenticated else "anonymous"


def limit(name: str, *, key: str | KeyFunction = "ip") -> Callable:
    """Refuse POSTs to the view beyond ``NEBULA_RATES[name]`` per ``key``.

    ``key`` is a django-ratelimit key: ``"ip"`` (the client address,
    ``nebula.http.client_ip``) or a function ``(group, request) -> str``.
    Stacked limits are checked outermost first; the first one exceeded answers.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            rate = settings.NEBULA_RATES[name]
            if is_ratelimited(
                request, group=f"nebula.{name}", key=key, rate=rate, method="POST", increment=True
            ):
                raise RateLimited(retry_after=period_seconds(rate))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class Budget:
    """Failures allowed for one key: ``NEBULA_RATES[name]`` per window.

    An attempt takes one unit before it starts (:meth:`take`) and gives it back
    if it did not fail (:meth:`give_back`), so simultaneous attempts can never
    pass the budget between a check and a count. The window starts with the
    first unit taken and the count expires with it.
    """

    def __init__(self, name: str, key: str) -> None:
        self.name = name
        # The cache never holds the key in clear (it may be an email address).
        digest = salted_hmac("nebula.ratelimit.Budget", f"{name}\0{key}").hexdigest()
        self.cache_key = f"budget:{name}:{digest}"

    @property
    def window(self) -> int:
        """Return this budget's window in seconds."""
        return period_seconds(settings.NEBULA_RATES[self.name])

    def _allowed(self) -> int:
        return allowed_count(settings.NEBULA_RATES[self.name])

    def spent(self) -> bool:
        """Say whether every failure this window allows has happened."""
        return caches["shared"].get(self.cache_key, 0) >= self._allowed()

    def take(self) -> None:
        """Count one attempt (one atomic ``ADD``); raise :class:`RateLimited` if none was left."""
        if self._count() > self._allowed():
            raise RateLimited(retry_after=self.window)

    def give_back(self) -> None:
        """Uncount an attempt that did not fail (nothing to do once the window has ended)."""
        with contextlib.suppress(ValueError):
            caches["shared"].decr(self.cache_key)

    def clear(self) -> None:
        """Forget every failure counted so far."""
        caches["shared"].delete(self.cache_key)

    def _count(self) -> int:
        cache = caches["shared"]
        for _ in range(2):
            try:
                return cache.incr(self.cache_key)
            except ValueError:
                # No live count yet: start one (unless another process just did).
                if cache.add(self.cache_key, 1, timeout=self.window):
                    return 1
        return cache.incr(self.cache_key)
