"""Profile pictures through HTTP: upload, the avatar job on the local gateway, bad uploads.

The site stores uploads through Django's storage API on the media bucket (moto's S3)
and the real worker makes the avatar; nothing here is mocked.
"""

import io
import json
import logging
import re

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts import selectors, services
from datalayer.jobs import JobStatus, job_get, jobs_for_owner
from nebula.logging import JSONFormatter
from nebula.settings.base import media_storage
from pictures import avatar as avatars
from pictures import check
from tests.accounts.conftest import PASSWORD, log_in
from tests.lambdas.conftest import MEDIA_BUCKET, gateway, lambda_env, worker_calls  # noqa: F401
from tests.pictures import samples
from tests.pictures.test_avatar import assert_no_metadata

KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def media(gateway, settings):  # noqa: F811 - the imported fixture
    """Uploads on the media bucket (moto's S3), jobs through the local gateway."""
    settings.NEBULA_JOBS_API_URL = gateway.api_url
    settings.AWS_REGION = "eu-west-1"
    settings.NEBULA_MEDIA_BUCKET = MEDIA_BUCKET
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(MEDIA_BUCKET, "eu-west-1")}
    return gateway


def _sign_in(email: str = "ann@example.com", **extra) -> tuple[Client, object]:
    extra.setdefault("email_verified", True)
    user = services.user_create(email=email, password=PASSWORD, **extra)
    client = Client()
    assert log_in(client, email=email).status_code == 302
    return client, user


@pytest.fixture
def ann():
    return _sign_in()


def _key(client: Client) -> str:
    return KEY.search(client.get("/accounts/profile/").content).group(1).decode()


def _upload(client: Client, data: bytes, name: str = "me.png", key: str | None = None, **extra):
    key = key or _key(client)
    picture = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post("/accounts/avatar/", {"idempotency_key": key, "picture": picture}, **extra)


def _objects() -> list[str]:
    listed = boto3.client("s3", region_name="eu-west-1").list_objects_v2(Bucket=MEDIA_BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _image_url(user_id: str) -> tuple[str, str]:
    user = selectors.user_get(user_id=user_id)
    return user.avatar, f"/accounts/avatar/{user.avatar}/256.webp"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (samples.picture("PNG", (640, 480)), "me.png"),
        (samples.jpeg_with_gps((640, 480)), "holiday.jpg"),
        (samples.picture("WEBP", (480, 640)), "me.webp"),
    ],
    ids=["png", "jpeg-with-gps", "webp"],
)
def test_an_uploaded_picture_becomes_the_avatar_without_its_metadata(media, ann, data, name):
    client, user = ann

    answer = _upload(client, data, name)

    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/profile/"
    [job], _ = jobs_for_owner(owner_id=user.id)
    assert job.kind == "avatar"
    assert media.runner.wait_idle(30)
    assert job_get(job_id=job.id).status is JobStatus.SUCCEEDED
    version, url = _image_url(user.id)
    assert version == job.id
    page = client.get("/accounts/profile/").content.decode()
    assert f'src="{url}"' in page
    assert f'src="/accounts/avatar/{version}/64.webp"' in page  # the header's
    assert "being prepared" not in page
    image = client.get(url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/webp"
    assert "immutable" in image["Cache-Control"]
    shown = Image.open(io.BytesIO(image.content))
    assert (shown.format, shown.size) == ("WEBP", (256, 256))
    assert_no_metadata(shown)
    # The original is gone from the bucket; the sizes are all that is left.
    assert _objects() == sorted(
        avatars.size_key(owner_id=user.id, version=version, size=s) for s in avatars.SIZES
    )


def test_until_it_is_ready_the_profile_shows_a_placeholder_and_the_job(media, ann):
    client, user = ann
    media.stop()  # the job is queued and the worker is not there to run it: still pending

    _upload(client, samples.picture())

    [job], _ = jobs_for_owner(owner_id=user.id)
    page = client.get("/accounts/profile/").content.decode()
    assert "avatar--placeholder" in page
    assert "being prepared" in page
    assert f'href="/jobs/{job.id}/"' in page
    assert "/accounts/avatar/" not in page.replace('action="/accounts/avatar/', "")


BAD = {
    "oversized": (samples.oversized(200_000), check.TOO_LARGE),
    "just-over-the-limit": (samples.oversized(1000), check.TOO_LARGE),
    "text-named-png": (samples.text_named_png(), check.NOT_A_PICTURE),
    "truncated-png": (samples.truncated_png(), check.DAMAGED),
    "truncated-jpeg": (samples.truncated_jpeg(), check.DAMAGED),
    "decompression-bomb": (samples.bomb_png(), check.TOO_MANY_PIXELS),
    "gif": (samples.gif(), check.NOT_A_PICTURE),
    "empty": (b"", "The submitted file is empty."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_upload_is_a_field_error_and_stores_nothing(media, ann, case):
    client, user = ann
    data, message = BAD[case]

    answer = _upload(client, data, "me.png")

    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="picture-title"' in page  # the profile page, with the form's error
    assert re.search(r'<ul class="errorlist"[^>]*><li>' + re.escape(message), page), page
    assert _objects() == []
    assert jobs_for_owner(owner_id=user.id)[0] == []
    assert selectors.user_get(user_id=user.id).avatar_pending is None


def _checking_csrf(client: Client) -> Client:
    """Return a browser with ``client``'s session that checks CSRF as real requests are."""
    guarded = Client(enforce_csrf_checks=True)
    guarded.cookies = client.cookies
    return guarded


def test_a_body_announced_too_large_is_refused_before_it_is_read(media, ann):
    # No CSRF token: a body that was parsed would be refused by the CSRF check (403).
    guarded = _checking_csrf(ann[0])

    refused = _upload(guarded, samples.oversized(200_000), key="k" * 20)
    parsed = _upload(guarded, samples.oversized(1000), key="k" * 20)

    assert refused.status_code == 400
    page = refused.content.decode()
    # The size is the one error, and the form can be sent again as it is.
    assert re.findall(r'<ul class="errorlist"[^>]*>\s*<li>([^<]+)', page) == [check.TOO_LARGE]
    assert KEY.search(refused.content)
    assert parsed.status_code == 403
    assert _objects() == []


def test_a_double_submit_makes_one_job_and_one_upload(media, ann):
    client, user = ann
    media.stop()
    key = _key(client)

    first = _upload(client, samples.picture(), key=key)
    second = _upload(client, samples.picture(), key=key)

    assert first.status_code == second.status_code == 302
    assert len(jobs_for_owner(owner_id=user.id)[0]) == 1
    assert len(_objects()) == 1


def test_the_upload_needs_the_csrf_token(media, ann):
    guarded = _checking_csrf(ann[0])

    answer = _upload(guarded, samples.picture())

    assert answer.status_code == 403
    assert _objects() == []


def test_an_unverified_person_is_told_to_confirm_first(media):
    client, _ = _sign_in(email_verified=False)

    page = client.get("/accounts/profile/").content.decode()
    answer = _upload(client, samples.picture(), key="k" * 20)

    assert "Confirm your email address to upload a picture." in page
    assert 'action="/accounts/avatar/"' not in page
    assert answer.status_code == 400
    assert "Confirm your email address" in answer.content.decode()
    assert _objects() == []


def test_without_a_media_bucket_pictures_are_not_offered(settings, ann):
    client, user = ann
    settings.NEBULA_MEDIA_BUCKET = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }

    page = client.get("/accounts/profile/").content.decode()
    answer = _upload(client, samples.picture(), key="k" * 20)

    assert "it has no media bucket configured" in page
    assert 'action="/accounts/avatar/"' not in page
    assert answer.status_code == 400
    assert jobs_for_owner(owner_id=user.id)[0] == []


def test_a_storage_failure_is_a_calm_error_and_starts_nothing(media, ann, settings):
    client, user = ann
    # A bucket that does not exist: S3 refuses the write for real.
    settings.NEBULA_MEDIA_BUCKET = "no-such-bucket"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage("no-such-bucket", "eu-west-1"),
    }

    answer = _upload(client, samples.picture())

    assert answer.status_code == 400
    assert "We could not store your picture just now" in answer.content.decode()
    assert jobs_for_owner(owner_id=user.id)[0] == []
    assert selectors.user_get(user_id=user.id).avatar_pending is None


def test_removing_the_picture_deletes_it(media, ann):
    client, user = ann
    _upload(client, samples.picture())
    assert media.runner.wait_idle(30)
    _, url = _image_url(user.id)

    answer = client.post("/accounts/avatar/remove/")

    assert answer.status_code == 302
    assert selectors.user_get(user_id=user.id).avatar is None
    assert _objects() == []
    assert client.get(url).status_code == 404
    assert "avatar--placeholder" in client.get("/accounts/profile/").content.decode()


def test_deleting_the_account_deletes_the_picture(media, ann):
    client, _ = ann
    _upload(client, samples.picture())
    assert media.runner.wait_idle(30)
    assert _objects()

    answer = client.post("/accounts/delete/", {"password": PASSWORD})

    assert answer.status_code == 200
    assert "your profile picture" in answer.content.decode()
    assert _objects() == []


def test_an_avatar_is_only_its_owners_to_fetch(media, ann):
    client, user = ann
    _upload(client, samples.picture())
    assert media.runner.wait_idle(30)
    _, url = _image_url(user.id)
    other, _ = _sign_in(email="bob@example.com")

    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert client.get(url.replace("256", "128")).status_code == 404


def test_the_profile_with_a_picture_costs_one_read(media, ann, caplog):
    client, user = ann
    _upload(client, samples.picture())
    assert media.runner.wait_idle(30)
    # And a newer upload pending at the same time.
    media.stop()
    _upload(client, samples.picture("JPEG"))
    caplog.set_level(logging.INFO, logger="nebula.access")

    for path in ("/accounts/profile/", _image_url(user.id)[1]):
        caplog.clear()
        assert client.get(path).status_code == 200
        [record] = [r for r in caplog.records if r.name == "nebula.access"]
        assert json.loads(JSONFormatter().format(record))["dynamodb_calls"] == 1, path
