"""Status tokens: let a job's page poll its status JSON at the cost of one DynamoDB read.

A signed-in request costs one read for the session and its user; the job is a second.
The job's page is rendered for its owner through that full check, so it can vouch for
the next few minutes of polling: it embeds a token (``?t=`` on the status URL) that the
status view checks **instead of** loading the session, leaving the job's ``GetItem``
as the only read.

A token is Django's :class:`~django.core.signing.TimestampSigner` signature (HMAC
under ``SECRET_KEY``, ``SECRET_KEY_FALLBACKS`` honoured) of the owner's user id, with a
salt that binds it to one job **and** one session cookie: it is worth nothing on
another job, in another browser (another person's cookie, or none), after a sign-in
or a second factor changes the session key, or after :data:`TOKEN_SECONDS`. A token
that fails any check is ignored and the view takes the normal session path (so other
people still get 404).

What a token cannot know is that the session ended meanwhile (signed out, "sign out
everywhere", deactivated). So it serves only what polling needs: the state of a job
still queued or running. A finished job's answer, which may carry the download link,
always takes the session path.
"""

import hashlib

from django.core.signing import BadSignature, TimestampSigner

# How long a page's token serves its polling; after that polls cost the session read too.
TOKEN_SECONDS = 10 * 60
_SALT = "nebula.jobs.tokens.status"


def _signer(job_id: str, session_key: str) -> TimestampSigner:
    # Only a digest of the cookie goes into the key derivation, never the cookie itself.
    session = hashlib.sha256(session_key.encode()).hexdigest()
    return TimestampSigner(salt=f"{_SALT}:{job_id}:{session}")


def status_token(*, job_id: str, owner_id: str, session_key: str) -> str:
    """Return a token that lets this session poll this job's status for a few minutes."""
    return _signer(job_id, session_key).sign(owner_id)


def status_token_owner(*, token: str, job_id: str, session_key: str | None) -> str | None:
    """Return the owner id the token vouches for on this job and session, or None."""
    if not token or not session_key:
        return None
    try:
        return _signer(job_id, session_key).unsign(token, max_age=TOKEN_SECONDS)
    except BadSignature:  # tampered, another job or session, or expired
        return None
