"""Bulk user import: the worker against moto's S3 and DynamoDB, and the accounts it makes."""

import csv
import functools
import io

import boto3
import pytest

from accounts import selectors, services
from accounts.models import EmailClaim, User
from datalayer import users as users_module
from datalayer.jobs import JobKind, JobStatus, job_create, job_get, job_report_progress
from datalayer.usercsv import NewUser
from datalayer.users import users_create
from lambdas import worker
from lambdas.work import import_users
from lambdas.worker import run_job
from tests.lambdas.conftest import MEDIA_BUCKET

STAFF = "5" * 32
GOOD = (
    b"email,display_name,is_staff,email_verified\n"
    b"ann@example.com,Ann,,true\n"
    b"BOB@Example.COM,Bob,no,\n"
    b"ann@,Broken,,\n"
    b"bob@example.com,Bob again,,\n"
    b"cal@example.com,Cal,maybe,\n"
    b"dee@example.com,Dee,,\n"
)


def _s3(endpoint: str):
    return boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)


def _import(endpoint: str, data: bytes, key: str = "k" * 16):
    """Store the file as the site does, make the job, run the worker; return the job."""
    job, _ = job_create(
        owner_id=STAFF, kind=JobKind.IMPORT, params={}, idempotency_key=key, run_seconds=600
    )
    file_key = f"imports/{job.id}.csv"
    _s3(endpoint).put_object(Bucket=MEDIA_BUCKET, Key=file_key, Body=data)
    job.update(actions=[job.__class__.params.set({"file_key": file_key})])
    run_job({"job_id": job.id, "kind": "import", "owner_id": STAFF})
    return job_get(job_id=job.id)


def _report(endpoint: str, job) -> list[dict[str, str]]:
    body = _s3(endpoint).get_object(Bucket=MEDIA_BUCKET, Key=job.result_key)["Body"].read()
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def _users() -> list[User]:
    return list(User.scan())


def test_an_import_creates_skips_and_rejects_rows_and_reports_each(lambda_env):
    job = _import(lambda_env, GOOD)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.message == "3 created, 1 skipped, 2 rejected."
    assert job.result_key == f"imports/{job.id}-report.csv"
    report = _report(lambda_env, job)
    assert [(r["line"], r["email"], r["outcome"]) for r in report] == [
        ("2", "ann@example.com", "created"),
        ("3", "BOB@example.com", "created"),
        ("4", "ann@", "rejected"),
        ("5", "bob@example.com", "skipped"),
        ("6", "cal@example.com", "rejected"),
        ("7", "dee@example.com", "created"),
    ]
    assert report[2]["reason"] == "'ann@': Enter a valid email address."
    assert report[3]["reason"] == "already appears on line 3"
    assert report[4]["reason"] == "is_staff must be true or false, not 'maybe'"


def test_imported_people_are_real_users_of_the_site_without_a_usable_password(lambda_env):
    _import(lambda_env, GOOD)

    ann = selectors.user_get_by_email(email="ANN@example.com")
    bob = selectors.user_get_by_email(email="bob@example.com")

    assert ann is not None
    assert bob is not None
    assert (ann.display_name, ann.email_verified, ann.is_active, ann.is_staff) == (
        "Ann",
        True,
        True,
        False,
    )
    assert bob.email == "BOB@example.com"  # the local part as typed, the domain canonical
    assert not ann.has_usable_password()
    assert not ann.check_password("")
    assert selectors.user_get(user_id=ann.id) == ann
    assert ann.date_joined is not None
    assert ann.version == 1


def test_importing_the_same_file_twice_creates_nothing_the_second_time(lambda_env):
    _import(lambda_env, GOOD)
    before = {user.id for user in _users()}

    again = _import(lambda_env, GOOD, key="again-" + "k" * 10)

    assert again.status == JobStatus.SUCCEEDED
    assert again.message == "0 created, 4 skipped, 2 rejected."
    assert {user.id for user in _users()} == before
    outcomes = {r["email"]: (r["outcome"], r["reason"]) for r in _report(lambda_env, again)}
    assert outcomes["ann@example.com"] == ("skipped", "already has an account")


def test_an_existing_account_is_skipped_and_never_overwritten(lambda_env):
    mine = services.user_create(
        email="ann@example.com", password="correct horse battery staple", display_name="Mine"
    )

    job = _import(lambda_env, b"email,display_name,is_staff\nAnn@example.com,Evil,true\n")

    assert job.message == "0 created, 1 skipped, 0 rejected."
    stored = User.get(mine.id, consistent_read=True)
    assert (stored.display_name, stored.is_staff, stored.password) == ("Mine", False, mine.password)
    assert len(_users()) == 1


def test_an_imported_account_has_the_item_shapes_the_site_writes(lambda_env):
    site_made = services.user_import(
        operator="operator:test", email="site@example.com", display_name="Site"
    )
    _import(lambda_env, b"email,display_name\njob@example.com,Job\n")
    client = boto3.client("dynamodb", region_name="eu-west-1")

    def shape(table: str, key: dict) -> dict[str, str]:
        item = client.get_item(TableName=f"nebula-test-{table}", Key=key)["Item"]
        return {name: next(iter(value)) for name, value in item.items()}

    job_made = selectors.user_get_by_email(email="job@example.com")
    assert shape("users", {"id": {"S": job_made.id}}) == shape("users", {"id": {"S": site_made.id}})
    assert shape("email-claims", {"email": {"S": "job@example.com"}}) == shape(
        "email-claims", {"email": {"S": "site@example.com"}}
    )
    assert EmailClaim.get("job@example.com").user_id == job_made.id
    assert job_made.password.startswith("!")
    assert len(job_made.password) == len(site_made.password)


def test_an_address_claimed_meanwhile_is_skipped_and_the_others_written(lambda_env):
    taken = services.user_create(email="bea@example.com", password="correct horse battery staple")
    accounts = [
        NewUser("amy@example.com", "", True, False, False, False),
        NewUser("Bea@example.com", "", True, True, True, True),
        NewUser("cat@example.com", "", True, False, False, False),
    ]

    created = users_create(accounts)

    assert created == [True, False, True]
    assert EmailClaim.get("bea@example.com").user_id == taken.id
    assert len(_users()) == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"mail,name\nann@example.com,Ann\n", "The file: bad header: unknown column 'mail'"),
        (
            b"email\nann@example.com\nbob@\xe9xample.com\n",
            "The file is not UTF-8: byte 0xe9 on line 3",
        ),
        (b'email\nann@example.com\n"bob@example.com\n', "The file is not valid CSV"),
        (b"", "The file: bad header: the file is empty"),
    ],
)
def test_a_bad_file_fails_the_job_with_its_reason_and_writes_nothing(lambda_env, data, reason):
    job = _import(lambda_env, data)

    assert job.status == JobStatus.FAILED
    assert job.error.startswith(reason)
    assert job.error.endswith("Nothing was imported.")
    assert _users() == []


def test_a_file_over_the_limit_fails_the_job_before_it_is_read(lambda_env, monkeypatch):
    monkeypatch.setattr(import_users, "MAX_BYTES", 1024 * 1024)
    big = b"email\n" + b"".join(b"u%06d@example.com\n" % n for n in range(60_000))

    job = _import(lambda_env, big)

    assert (job.status, job.error) == (JobStatus.FAILED, "The file is larger than 1 MB.")
    assert _users() == []


def test_a_missing_file_fails_the_job_readably(lambda_env):
    job, _ = job_create(
        owner_id=STAFF,
        kind=JobKind.IMPORT,
        params={"file_key": "imports/gone.csv"},
        idempotency_key="k" * 16,
        run_seconds=600,
    )

    run_job({"job_id": job.id, "kind": "import", "owner_id": STAFF})

    assert job_get(job_id=job.id).error == "The uploaded file is gone. Upload it again."


@pytest.mark.no_dynamodb
def test_the_report_defuses_cells_a_spreadsheet_would_run():
    report = import_users.build_report(
        [{"line": 2, "email": "=HYPERLINK(1)", "outcome": "rejected", "reason": "@SUM(1)"}]
    )

    [row] = csv.DictReader(io.StringIO(report.decode()))
    assert (row["email"], row["reason"]) == ("'=HYPERLINK(1)", "'@SUM(1)")


def test_a_file_of_many_batches_is_written_whole_with_progress(lambda_env, monkeypatch):
    monkeypatch.setattr(import_users, "BATCH_ROWS", 10)
    monkeypatch.setattr(users_module, "TRANSACTION_USERS", 4)
    services.user_create(email="u017@example.com", password="correct horse battery staple")
    reported: list[int] = []

    def progress(**kwargs):
        reported.append(kwargs["progress"])
        job_report_progress(**kwargs)

    monkeypatch.setattr(
        worker, "JobStore", functools.partial(worker.JobStore, report_progress=progress)
    )
    data = b"email\n" + b"".join(b"u%03d@example.com\n" % n for n in range(23))

    job = _import(lambda_env, data)

    assert job.message == "22 created, 1 skipped, 0 rejected."
    assert len(_users()) == 23
    assert reported == sorted(reported)
    assert len(reported) >= 3 + 2  # reading, three batches, the report


def test_a_claim_taken_inside_a_later_transaction_skips_only_that_account(lambda_env, monkeypatch):
    monkeypatch.setattr(users_module, "TRANSACTION_USERS", 4)
    services.user_create(email="n5@example.com", password="correct horse battery staple")
    accounts = [NewUser(f"n{n}@example.com", "", True, False, False, False) for n in range(9)]

    created = users_create(accounts)

    assert created == [True] * 5 + [False] + [True] * 3
    assert len(_users()) == 9
