"""The local stand-in for AWS: moto's server on loopback, with a state snapshot.

moto keeps everything in memory. This process restores the DynamoDB tables and
items from a JSON snapshot when it starts, and writes a new snapshot every
``--interval`` seconds and when it is stopped (SIGTERM or SIGINT), so local data
survives a restart of ``make run``.

    python -m local.standin --port 8001 --snapshot .local/dynamodb.json

It prints ``READY`` on stdout (and nothing else there) once it serves the port.
The snapshot is restored first, through a private port of its own, so the port never
answers with a table missing: a site restarted against it (or still running while the
stand-in restarts, as tests/proof/test_load_and_faults.py does) sees the whole state or a
refused connection, never a half-restored one.

It keeps connections open between calls, as DynamoDB does (Werkzeug's server, which
moto's is, closes every one): a site on the stand-in then spends per call what it
spends on DynamoDB, which ``make bench`` measures (docs/performance.md).

Only programs on this machine may use it, never a web page the developer visits:
a request with an ``Origin`` header (browsers add one to cross-origin and to every
POST request; botocore never does) or naming another host than loopback (DNS
rebinding) is refused with 403 and no CORS headers, preflights included.
"""

import argparse
import io
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

logger = logging.getLogger("nebula.standin")

# Table settings a snapshot keeps; everything else is recomputed by moto.
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _hostname(host: str) -> str:
    """Return the name part of a ``Host`` header ("127.0.0.1:8001" -> "127.0.0.1")."""
    if host.endswith("]"):  # "[::1]", no port
        return host
    return host.rsplit(":", 1)[0]


def refuse_browsers(app: WSGIApp) -> WSGIApp:
    """Wrap a WSGI app: answer 403, without CORS headers, to what a web page could send."""

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        host = _hostname(environ.get("HTTP_HOST", "").lower())
        if origin is None and host in _LOOPBACK_HOSTS:
            return app(environ, start_response)
        reason = f"Origin {origin}" if origin is not None else f"Host {host or '(none)'}"
        logger.warning("refused %s %s: %s", environ["REQUEST_METHOD"], environ["PATH_INFO"], reason)
        body = b"The local stand-in answers programs on this machine only, not web pages.\n"
        start_response(
            "403 Forbidden",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return guarded


def one_dynamodb_call_at_a_time(app: WSGIApp) -> WSGIApp:
    """Wrap a WSGI app: serve DynamoDB calls (and moto's resets) one at a time.

    DynamoDB applies each call atomically. moto does not guard its tables against its
    own server's threads: a transaction copies the tables it writes (to roll back) while
    another call adds an item, and fails with a 500 ("dictionary changed size during
    iteration"), which DynamoDB never answers. moto's work holds the GIL anyway, so
    running the calls in turn costs next to no throughput. The body is read before the
    lock is taken: a client slow to send one holds up only itself.
    """
    lock = threading.Lock()

    def serialized(environ: dict, start_response: Callable) -> Iterable[bytes]:
        dynamodb = environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_")
        if not dynamodb and not environ.get("PATH_INFO", "").startswith("/moto-api/"):
            return app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit():  # a chunked body is read by moto, under the lock
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(int(length)))
        with lock:
            answer = app(environ, start_response)
            try:
                return list(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()

    return serialized


class _BodyReader(io.RawIOBase):
    """The request's body, and nothing past it: what the app may read of the connection."""

    def __init__(self, stream: Any, length: int) -> None:
        super().__init__()
        self._stream = stream
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            return 0
        data = self._stream.read(min(len(buffer), self.remaining))
        buffer[: len(data)] = data
        self.remaining -= len(data)
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self._stream.readline(limit) if limit > 0 else b""
        self.remaining -= len(data)
        return data


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler, keeping the connection open after each answer.

    Werkzeug closes every connection because, after an answer, it reads whatever
    the client sent on it, which would swallow the next request. Here the app reads
    the request's body through :class:`_BodyReader`, which stops at its
    ``Content-Length`` (a request without one has no body), so that read finds
    nothing; what the app left of the body is read before the next request. A
    request with a chunked body still gets ``Connection: close``. An idle
    connection is closed after :attr:`timeout` seconds. Nagle's algorithm is off:
    Werkzeug writes an answer's head and body separately, and on a kept connection
    the body would otherwise wait for the client's delayed ACK (40 ms).
    """

    timeout = 120
    disable_nagle_algorithm = True
    _keep_alive = False

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "0")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked or not length.isdigit():
            self._keep_alive = False
            super().run_wsgi()
            return
        connection, body = self.rfile, _BodyReader(self.rfile, int(length))
        self._keep_alive = True
        self.rfile = body  # what Werkzeug hands the app as wsgi.input
        try:
            super().run_wsgi()
        finally:
            self.rfile = connection
        while body.remaining > 0 and body.read(min(body.remaining, 65536)):
            pass

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep_alive and keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)


def serve(port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve moto's DynamoDB (and the other AWS APIs it has) on loopback, from a thread."""
    app = refuse_browsers(
        one_dynamodb_call_at_a_time(DomainDispatcherApplication(create_backend_app))
    )
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveHandler)
    # Stopping must not wait for the handler threads of idle kept-alive connections.
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, name="standin", daemon=True)
    thread.start()
    return server, thread


def _client(port: int) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=os.environ.get("AWS_REGION", "eu-west-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the stand-in accepts any key
    )


def snapshot(client: Any) -> dict:
    """Return every table's definition, TTL setting and items."""
    tables = []
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            table = client.describe_table(TableName=name)["Table"]
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            items = []
            for scan in client.get_paginator("scan").paginate(TableName=name):
                items.extend(scan["Items"])
            tables.append(
                {
                    "TableName": name,
                    "KeySchema": table["KeySchema"],
                    "AttributeDefinitions": table["AttributeDefinitions"],
                    "GlobalSecondaryIndexes": [
                        {k: index[k] for k in _INDEX_KEYS}
                        for index in table.get("GlobalSecondaryIndexes", [])
                    ],
                    "LocalSecondaryIndexes": [
                        {k: index[k] for k in _INDEX_KEYS}
                        for index in table.get("LocalSecondaryIndexes", [])
                    ],
                    "TimeToLive": ttl.get("AttributeName")
                    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
                    else None,
                    "Items": items,
                }
            )
    return {"version": 1, "tables": tables}


def restore(client: Any, state: dict) -> int:
    """Recreate the snapshot's tables and items; return the number of items."""
    count = 0
    for table in state.get("tables", []):
        request: dict[str, Any] = {
            "TableName": table["TableName"],
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if table.get(kind):
                request[kind] = table[kind]
        client.create_table(**request)
        if table.get("TimeToLive"):
            client.update_time_to_live(
                TableName=table["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table["TimeToLive"]},
            )
        items = table.get("Items", [])
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            client.batch_write_item(RequestItems={table["TableName"]: batch})
        count += len(items)
    return count


def write_snapshot(client: Any, path: Path) -> None:
    """Write the snapshot atomically: a crash mid-write keeps the previous one."""
    state = snapshot(client)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


def _restore_privately(path: Path) -> None:
    """Restore the snapshot through a server on a port of its own, then stop that server.

    moto keeps its state per process, so the public server started next serves it.
    """
    try:
        state = json.loads(path.read_text())
    except ValueError as exc:
        logger.warning("snapshot %s is unreadable (%s); moving it aside", path, exc)
        path.rename(path.with_suffix(".corrupt"))
        return
    private, thread = serve(0)
    try:
        items = restore(_client(private.server_port), state)
    finally:
        private.shutdown()
        thread.join()
    logger.info("restored %d items from %s", items, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--snapshot", type=Path, help="JSON file to restore from and save to")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between snapshots")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # moto's request log would print a line for every DynamoDB call.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    if args.snapshot and args.snapshot.exists():
        _restore_privately(args.snapshot)
    server, thread = serve(args.port)
    client = _client(args.port)
    try:
        logger.info("stand-in ready on http://127.0.0.1:%d", args.port)
        print("READY", flush=True)
        while not stop.wait(args.interval):
            if args.snapshot:
                write_snapshot(client, args.snapshot)
        if args.snapshot:
            write_snapshot(client, args.snapshot)
            logger.info("state saved to %s", args.snapshot)
    finally:
        server.shutdown()
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
