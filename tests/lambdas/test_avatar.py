"""The avatar work on moto's S3 and DynamoDB: sizes made and shown, bad originals failed."""

import io

import boto3
import pytest
from PIL import Image

from datalayer.jobs import JobKind, JobStatus, job_create, job_get, job_id_for
from lambdas.worker import run_job
from pictures import avatar as avatars
from pictures.check import DAMAGED, TOO_MANY_PIXELS
from tests.lambdas.conftest import MEDIA_BUCKET
from tests.pictures import samples
from tests.pictures.test_avatar import assert_no_metadata

OWNER = "d" * 32
USERS = "nebula-test-users"


def _s3():
    return boto3.client("s3", region_name="eu-west-1")


def _dynamodb():
    return boto3.client("dynamodb", region_name="eu-west-1")


def _put_user(**attributes: str) -> None:
    item = {"id": {"S": OWNER}, "email": {"S": "ada@example.com"}, "password": {"S": "x"}}
    item.update({name: {"S": value} for name, value in attributes.items()})
    _dynamodb().put_item(TableName=USERS, Item=item)


def _user() -> dict:
    return _dynamodb().get_item(TableName=USERS, Key={"id": {"S": OWNER}}).get("Item", {})


def _keys() -> list[str]:
    listed = _s3().list_objects_v2(Bucket=MEDIA_BUCKET, Prefix="media/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _upload(data: bytes, *, key: str = "k" * 16, pending: bool = True, ext: str = "jpg"):
    """Store an original and queue its job, as the site does; return the job."""
    job_id = job_id_for(owner_id=OWNER, idempotency_key=key)
    upload = avatars.upload_key(owner_id=OWNER, job_id=job_id, extension=ext)
    _s3().put_object(Bucket=MEDIA_BUCKET, Key=upload, Body=data)
    if pending:
        _dynamodb().update_item(
            TableName=USERS,
            Key={"id": {"S": OWNER}},
            UpdateExpression="SET avatar_pending = :j",
            ExpressionAttributeValues={":j": {"S": job_id}},
        )
    job, _ = job_create(
        owner_id=OWNER,
        kind=JobKind.AVATAR,
        params={"upload": upload},
        idempotency_key=key,
        run_seconds=60,
    )
    return job


def _run(job):
    return run_job({"job_id": job.id, "kind": "avatar", "owner_id": OWNER})


def test_an_avatar_job_makes_each_size_without_metadata_and_shows_it(lambda_env):
    _put_user()
    job = _upload(samples.jpeg_with_gps())

    assert _run(job)["outcome"] == "succeeded"

    done = job_get(job_id=job.id)
    assert done.status is JobStatus.SUCCEEDED
    sizes = [avatars.size_key(owner_id=OWNER, version=job.id, size=s) for s in avatars.SIZES]
    assert done.result_key == sizes[-1]
    # The original (with its GPS) is gone; only the sizes are left.
    assert _keys() == sorted(sizes)
    for size, key in zip(avatars.SIZES, sizes, strict=True):
        stored = _s3().get_object(Bucket=MEDIA_BUCKET, Key=key)
        assert stored["ContentType"] == "image/webp"
        image = Image.open(io.BytesIO(stored["Body"].read()))
        assert image.size == (size, size)
        assert_no_metadata(image)
    user = _user()
    assert user["avatar"] == {"S": job.id}
    assert "avatar_pending" not in user


def test_a_new_avatar_replaces_the_old_one_and_deletes_its_sizes(lambda_env):
    _put_user()
    first = _upload(samples.picture("PNG"), key="first-key-000000", ext="png")
    _run(first)
    second = _upload(samples.picture("WEBP"), key="second-key-00000", ext="webp")

    _run(second)

    assert _user()["avatar"] == {"S": second.id}
    assert _keys() == sorted(
        avatars.size_key(owner_id=OWNER, version=second.id, size=s) for s in avatars.SIZES
    )


def test_a_job_overtaken_by_a_newer_upload_changes_nothing(lambda_env):
    _put_user()
    older = _upload(samples.picture("PNG"), key="older-key-000000", ext="png")
    newer = _upload(samples.picture("PNG"), key="newer-key-000000", ext="png")  # now pending

    assert _run(older)["outcome"] == "succeeded"

    assert "avatar" not in _user()
    assert _user()["avatar_pending"] == {"S": newer.id}
    assert job_get(job_id=older.id).result_key is None
    # Only the newer upload is left, waiting for its own job.
    assert _keys() == [newer.params["upload"]]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(samples.truncated_png(), DAMAGED), (samples.bomb_png(), TOO_MANY_PIXELS)],
    ids=["truncated", "bomb"],
)
def test_a_bad_original_fails_the_job_with_its_reason_and_is_dropped(lambda_env, data, reason):
    _put_user()
    job = _upload(data, ext="png")

    assert _run(job)["outcome"] == "failed"

    failed = job_get(job_id=job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, reason)
    assert _keys() == []
    assert "avatar_pending" not in _user()
    assert "avatar" not in _user()


def test_a_missing_original_asks_for_a_new_upload(lambda_env):
    _put_user()
    job = _upload(samples.picture())
    _s3().delete_object(Bucket=MEDIA_BUCKET, Key=job.params["upload"])

    _run(job)

    assert "Upload it again" in job_get(job_id=job.id).error
    assert "avatar_pending" not in _user()


def test_an_original_over_the_limit_is_refused_without_being_used(lambda_env):
    _put_user()
    job = _upload(samples.oversized(), ext="png")

    _run(job)

    assert "larger than 5 MB" in job_get(job_id=job.id).error
    assert _keys() == []


def test_a_job_naming_someone_elses_upload_fails(lambda_env):
    _put_user()
    job, _ = job_create(
        owner_id=OWNER,
        kind=JobKind.AVATAR,
        params={"upload": f"media/avatar-uploads/{'e' * 32}/{'f' * 32}.png"},
        idempotency_key="x" * 16,
        run_seconds=60,
    )

    _run(job)

    assert job_get(job_id=job.id).error == "This avatar job names no picture of yours."


def test_an_account_deleted_meanwhile_keeps_nothing(lambda_env):
    _put_user()
    job = _upload(samples.picture())
    _dynamodb().delete_item(TableName=USERS, Key={"id": {"S": OWNER}})

    _run(job)

    assert job_get(job_id=job.id).error == "Your account was deleted, so the picture was not used."
    assert _keys() == []
    assert _user() == {}  # not re-created by the update
