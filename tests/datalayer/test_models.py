"""A model refuses to touch DynamoDB until the table prefix is configured."""

import os
import subprocess
import sys
import textwrap

import pytest

from tests.support import ROOT, free_port

pytestmark = pytest.mark.no_dynamodb


def _run_unconfigured(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where nothing called ``configure`` yet."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "NEBULA_", "DJANGO_"))
    }
    # Were the guard missing, the call would go here (nothing listens), never to AWS.
    env |= {
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "call",
    [
        "jobs.job_get(job_id='0' * 32)",
        "jobs.job_create(owner_id='u', kind='export', params={}, idempotency_key='k',"
        " run_seconds=60)",
        "jobs.job_mark_running(job_id='0' * 32)",
        "jobs.jobs_for_owner(owner_id='u')",
        "models.connection()",
    ],
)
def test_a_model_used_before_configure_raises_instead_of_using_the_bare_table(call) -> None:
    result = _run_unconfigured(
        f"""
        from datalayer import jobs, models
        assert not models.is_configured()
        try:
            {call}
        except models.TableNotConfiguredError as exc:
            print("refused:", exc)
        """
    )

    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout
    assert "configure_from_environment" in result.stdout


def test_a_model_works_once_configured() -> None:
    result = _run_unconfigured(
        """
        from datalayer import jobs, models
        models.configure(prefix="p-", region="eu-west-1", connect_timeout=0.2,
                         read_timeout=0.2, max_attempts=1)
        assert models.is_configured()
        print(jobs.Job.Meta.table_name)
        try:
            jobs.job_get(job_id="0" * 32)
        except models.TableNotConfiguredError:
            print("still refused")
        except Exception as exc:
            print("reached DynamoDB:", type(exc).__name__)
        """
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "p-jobs"
    assert "reached DynamoDB" in result.stdout


def test_every_table_and_thread_shares_one_botocore_session() -> None:
    # One session holds one copy of botocore's endpoint data (~7 MiB); a session per
    # model and thread, PynamoDB's default, costs a web worker ~45 MiB.
    result = _run_unconfigured(
        """
        import threading
        from datalayer import aws, jobs, models
        from datalayer.counters import Counter
        models.configure(prefix="p-", region="eu-west-1", connect_timeout=0.2,
                         read_timeout=0.2, max_attempts=1)
        clients = [jobs.Job._get_connection().connection.client, models.connection().client]
        thread = threading.Thread(
            target=lambda: clients.append(Counter._get_connection().connection.client))
        thread.start()
        thread.join()
        print(len({id(client) for client in clients}), len({id(c._loader) for c in clients}),
              clients[0]._loader is aws.session().get_component("data_loader"))
        """
    )

    assert result.returncode == 0, result.stderr
    # Three clients (a model's hooks stay its own), one session's loader: datalayer.aws's.
    assert result.stdout.split() == ["3", "1", "True"]
