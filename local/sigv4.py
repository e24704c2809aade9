"""Verify AWS Signature Version 4 on a received request, as ``AWS_IAM`` authorisation does.

No package on the index does this correctly for ``execute-api`` (docs/jobs.md, "How
signing and verification work"), so this module rebuilds the canonical request from
what was *received*, with botocore's own signer, and compares signatures in constant
time:

- the path exactly as sent (raw, stage included, before any routing), normalised and
  encoded by botocore's non-S3 rule;
- the query decoded pair by pair (``+`` is a space, as botocore encodes it),
  re-encoded with the RFC 3986 unreserved set, sorted by key then value (repeated
  keys kept);
- only the headers named in ``SignedHeaders`` (``host`` and ``x-amz-date`` required),
  with ``Host`` as received, port included;
- the SHA-256 of the body actually received; an ``x-amz-content-sha256`` header must
  equal it (``UNSIGNED-PAYLOAD`` is never honoured here);
- the credential scope: a known access key, the date of ``x-amz-date``, this region,
  this service, ``aws4_request``; a session token, when the key has one, signed and equal;
- ``x-amz-date`` within five minutes of now, either way.

Every failure raises :class:`SignatureError` (the gateway answers 403 with its
message); nothing else escapes :func:`verify` for any input. ``Date``-header and
presigned query-string authentication are not supported: they are refused.
"""

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
CLOCK_SKEW = dt.timedelta(minutes=5)
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_AUTHORIZATION_RE = re.compile(
    r"AWS4-HMAC-SHA256 "
    r"Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9!#$%&'*+.^_`|~-]+(?:;[a-z0-9!#$%&'*+.^_`|~-]+)*),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
_AMZ_DATE_RE = re.compile(r"\d{8}T\d{6}Z")


class SignatureError(Exception):
    """The request is not signed, or not signed right; the message says which check failed."""


@dataclass(frozen=True)
class Secret:
    """What the verifier knows about one access key."""

    secret_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who signed a verified request (the ``requestContext.identity`` of the proxy event)."""

    access_key: str


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4 signer, fed with exactly what was received.

    botocore signs every header it is given and trusts ``X-Amz-Content-SHA256``; a
    verifier must sign only the headers the client listed and hash the real body.
    """

    def __init__(
        self,
        credentials: Credentials,
        service: str,
        region: str,
        *,
        signed_headers: HTTPHeaders,
        query: Sequence[tuple[str, str]],
        body_sha256: str,
    ) -> None:
        super().__init__(credentials, service, region)
        self._received_headers = signed_headers
        self._query = query
        self._body_sha256 = body_sha256

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._received_headers

    def canonical_query_string(self, request: AWSRequest) -> str:
        return self._canonical_query_string_params(self._query) if self._query else ""

    def payload(self, request: AWSRequest) -> str:
        return self._body_sha256


def _header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def _one_header(headers: Sequence[tuple[str, str]], name: str) -> str:
    values = _header_values(headers, name)
    if len(values) != 1:
        raise SignatureError(f"expected exactly one {name} header")
    return values[0]


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote_plus(key, errors="strict"), unquote_plus(value, errors="strict")))
    return pairs


@dataclass(frozen=True)
class _Authorization:
    access_key: str
    scope_date: str
    signed_names: list[str]
    signature: str


def verify(
    *,
    method: str,
    raw_target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    keys: Mapping[str, Secret],
    region: str,
    service: str,
    now: dt.datetime | None = None,
) -> Identity:
    """Check the SigV4 signature of one received request; return who signed it.

    ``raw_target`` is the request target as sent (``/v1/jobs?x=1``, still encoded);
    ``headers`` every received header, in order, duplicates kept.
    """
    try:
        auth = _authorization(headers, region, service)
        secret = keys.get(auth.access_key)
        if secret is None:
            raise SignatureError("The security token included in the request is invalid")
        amz_date = _checked_date(headers, auth.scope_date, now or dt.datetime.now(dt.UTC))
        _check_token(headers, auth.signed_names, secret)
        body_sha256 = hashlib.sha256(body).hexdigest()
        declared = _header_values(headers, "x-amz-content-sha256")
        if declared and (len(declared) != 1 or declared[0] != body_sha256):
            raise SignatureError("X-Amz-Content-SHA256 does not match the body received")
        expected = _signature(
            method=method,
            raw_target=raw_target,
            headers=headers,
            auth=auth,
            secret=secret,
            amz_date=amz_date,
            body_sha256=body_sha256,
            region=region,
            service=service,
        )
    except SignatureError:
        raise
    except (ValueError, UnicodeError, KeyError) as exc:
        # Malformed input anywhere (bad percent-encoding, odd header values): still a 403.
        raise SignatureError(f"malformed request: {exc.__class__.__name__}") from exc
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise SignatureError(
            "The request signature we calculated does not match the signature you provided"
        )
    return Identity(access_key=auth.access_key)


def _authorization(headers: Sequence[tuple[str, str]], region: str, service: str) -> _Authorization:
    authorizations = _header_values(headers, "authorization")
    if not authorizations:
        raise SignatureError("Missing Authentication Token")
    if len(authorizations) > 1:
        raise SignatureError("more than one Authorization header")
    match = _AUTHORIZATION_RE.fullmatch(authorizations[0].strip())
    if match is None:
        raise SignatureError("Authorization header is not a well-formed AWS4-HMAC-SHA256 one")
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SignatureError("credential scope is malformed")
    access_key, scope_date, scope_region, scope_service, _ = scope
    if scope_region != region:
        raise SignatureError(f"credential scope names region {scope_region!r}, not {region!r}")
    if scope_service != service:
        raise SignatureError(f"credential scope names service {scope_service!r}, not {service!r}")
    signed_names = match["signed"].split(";")
    if signed_names != sorted(set(signed_names)):
        raise SignatureError("SignedHeaders is not sorted and unique")
    for required in ("host", "x-amz-date"):
        if required not in signed_names:
            raise SignatureError(f"SignedHeaders must include {required}")
    return _Authorization(access_key, scope_date, signed_names, match["signature"])


def _checked_date(headers: Sequence[tuple[str, str]], scope_date: str, now: dt.datetime) -> str:
    amz_date = _one_header(headers, "x-amz-date")
    if _AMZ_DATE_RE.fullmatch(amz_date) is None:
        raise SignatureError("X-Amz-Date is not in the form YYYYMMDDTHHMMSSZ")
    if amz_date[:8] != scope_date:
        raise SignatureError("credential scope date differs from X-Amz-Date")
    signed_at = dt.datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=dt.UTC)
    if abs(now - signed_at) > CLOCK_SKEW:
        raise SignatureError("Signature expired or not yet valid: X-Amz-Date is over 5 min away")
    return amz_date


def _check_token(
    headers: Sequence[tuple[str, str]], signed_names: list[str], secret: Secret
) -> None:
    tokens = _header_values(headers, "x-amz-security-token")
    if secret.session_token is None and not tokens:
        return
    if "x-amz-security-token" not in signed_names:
        raise SignatureError("X-Amz-Security-Token is missing or not signed")
    if len(tokens) != 1 or not hmac.compare_digest(
        tokens[0].encode(), (secret.session_token or "").encode()
    ):
        raise SignatureError("The security token included in the request is invalid")


def _signature(
    *,
    method: str,
    raw_target: str,
    headers: Sequence[tuple[str, str]],
    auth: _Authorization,
    secret: Secret,
    amz_date: str,
    body_sha256: str,
    region: str,
    service: str,
) -> str:
    """Return the signature botocore computes for what was received."""
    signed_headers = HTTPHeaders()
    for name in auth.signed_names:
        values = _header_values(headers, name)
        if not values:
            raise SignatureError(f"signed header {name} is missing from the request")
        for value in values:
            signed_headers[name] = value  # HTTPHeaders keeps repeated names
    target = urlsplit(raw_target)
    if not target.path.startswith("/") or target.scheme or target.netloc:
        raise SignatureError("request target must be an absolute path")
    request = AWSRequest(method=method, url=f"http://{_one_header(headers, 'host')}{target.path}")
    request.context["timestamp"] = amz_date
    signer = _ReceivedRequestSigner(
        Credentials(auth.access_key, secret.secret_key, secret.session_token),
        service,
        region,
        signed_headers=signed_headers,
        query=_query_pairs(target.query),
        body_sha256=body_sha256,
    )
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)
