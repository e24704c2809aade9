"""The process's one botocore session, holding endpoint data for the services Nebula calls only.

Every botocore session loads its own copy of botocore's ``endpoints.json`` on its
first client and keeps it for the life of the process: every service in every
region, about 6.5 MiB of Python objects, where Nebula's processes call four
services. :func:`session` is the one session of the process (the DynamoDB
models' clients, the S3 clients of ``jobs.media``, the jobs API's credentials),
and its data loader keeps, of each partition in that file, its regions and
defaults and only the entries of :data:`SERVICES`. A client of a service left
out would still work: botocore builds its endpoint from the partition's defaults,
as it does for a service newer than its data. What botocore resolves for the
kept services is unchanged (``tests/datalayer/test_aws.py`` compares it with a
plain session's).
"""

import os
import threading
from pathlib import Path
from typing import Any

import botocore.session
from botocore.loaders import JSONFileLoader, Loader

# dynamodb: the models; s3: uploads and job results; lambda: the workers' own calls;
# sts: credentials that assume a role. (The jobs API's requests are signed by hand.)
SERVICES = frozenset({"dynamodb", "lambda", "s3", "sts"})

# Held while a client is made: a botocore session's create_client is not thread-safe
# (the reason PynamoDB gives each thread a session of its own), and Gunicorn's
# threads may ask for one at once.
client_lock = threading.RLock()
_session: botocore.session.Session | None = None


def trim_endpoints(data: dict, services: frozenset[str] = SERVICES) -> dict:
    """Return botocore's endpoint data with only ``services`` in each partition."""
    partitions = []
    for partition in data.get("partitions", []):
        kept = {n: entry for n, entry in partition.get("services", {}).items() if n in services}
        partitions.append({**partition, "services": kept})
    return {**data, "partitions": partitions}


class _TrimmingFileLoader(JSONFileLoader):
    """botocore's JSON file loader, handing back ``endpoints`` trimmed to :data:`SERVICES`."""

    def load_file(self, file_path: str) -> Any:
        data = super().load_file(file_path)
        if data is not None and Path(file_path).name == "endpoints":
            return trim_endpoints(data)
        return data


def session() -> botocore.session.Session:
    """Return the process's one botocore session (with the trimmed endpoint data)."""
    global _session  # noqa: PLW0603 - one per process, made on first use
    if _session is not None:
        return _session
    with client_lock:
        if _session is not None:
            return _session
        made = botocore.session.get_session()
        # As botocore's own loader: its data, then any AWS_DATA_PATH directories first.
        data_path = made.get_config_variable("data_path") or ""
        extra = [str(Path(os.path.expandvars(p)).expanduser()) for p in data_path.split(os.pathsep)]
        made.register_component(
            "data_loader",
            Loader(
                extra_search_paths=extra if data_path else None, file_loader=_TrimmingFileLoader()
            ),
        )
        _session = made
        return made
