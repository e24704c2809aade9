"""The worker CPU a DynamoDB call spends on the stand-in's new connection each time.

    .venv/bin/python -m bench.connection_cost [--rounds N] [--calls N]

moto's server (Werkzeug's) answers every call with ``Connection: close``, so a web
worker opens a new TCP connection for each DynamoDB call; DynamoDB keeps
connections open and botocore pools them. This measures that artefact of the
stand-in: the same botocore call (a consistent BatchGetItem of two items, about
the size of a session and a user, with PynamoDB's client settings) against the
stand-in, and against a keep-alive server in another process that answers with
the stand-in's own bytes (status, headers but ``Connection``, body), in
alternating rounds. The difference is the set-up cost per call. ``make bench``
reports it beside the measured ratios as additional information only: the
measured ratio stays the figure.
"""

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import botocore.session
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import free_port, start_standin

TABLE = "bench-connection-cost"
# PynamoDB's client settings (pynamodb.connection.base), as the site's clients have.
CONFIG = Config(
    parameter_validation=False,
    connect_timeout=5,
    read_timeout=10,
    retries={"total_max_attempts": 1, "mode": "standard"},
)


def _client(endpoint: str) -> object:
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the stand-in takes any key
        config=CONFIG,
    )


def _item(key: str) -> dict:
    """An item shaped like a session (the user item is of the same order)."""
    return {
        "key": {"S": key},
        "data": {"S": "x" * 180},
        "expires": {"N": str(int(time.time()) + 86400)},
        "user_id": {"S": "0" * 26},
        "created": {"S": "2026-11-29T10:00:00.000000+0000"},
        "last_seen": {"S": "2026-11-29T10:00:00.000000+0000"},
        "ip": {"S": "203.0.113.7"},
        "user_agent": {"S": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"},
    }


def _serve(answer_file: str, port: int) -> None:
    """Answer every POST with the recorded answer, keeping the connection open."""
    answer = json.loads(Path(answer_file).read_text())
    body = answer["body"].encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)  # adds Server and Date, as Werkzeug does
            for name, value in answer["headers"].items():
                if name.lower() not in ("connection", "content-length", "server", "date"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            # Head and body in one write, as one answer from a server would come.
            self._headers_buffer.extend([b"\r\n", body])
            self.flush_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise RuntimeError(f"nothing listens on :{port}")


def _cpu_ms_per_call(call: object, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) * 1000 / calls


def measure(rounds: int = 5, calls: int = 200) -> dict:
    """Return the CPU ms per call against the stand-in and a keep-alive server, and the gap."""
    standin_port, keepalive_port = free_port(), free_port()
    standin = start_standin(standin_port)
    server = None
    try:
        moto = _client(f"http://127.0.0.1:{standin_port}")
        moto.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for key in ("session", "user"):
            moto.put_item(TableName=TABLE, Item=_item(key))
        request = {
            TABLE: {
                "Keys": [{"key": {"S": "session"}}, {"key": {"S": "user"}}],
                "ConsistentRead": True,
            }
        }
        recorded: dict = {}

        def record(response_dict: dict, **_: object) -> None:
            recorded.update(headers=dict(response_dict["headers"]), body=response_dict["body"])

        moto.meta.events.register("before-parse.dynamodb.BatchGetItem", record)
        moto.batch_get_item(RequestItems=request)
        moto.meta.events.unregister("before-parse.dynamodb.BatchGetItem", record)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as answer:
            json.dump({"headers": recorded["headers"], "body": recorded["body"].decode()}, answer)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.connection_cost",
                "--serve",
                answer.name,
                str(keepalive_port),
            ],
            cwd=ROOT,
        )
        _wait_for(keepalive_port)
        kept = _client(f"http://127.0.0.1:{keepalive_port}")
        clients = {"stand-in": moto, "keep-alive": kept}
        for client in clients.values():  # warm up, and check both answer the same
            answers = [client.batch_get_item(RequestItems=request) for _ in range(20)]
            assert len(answers[-1]["Responses"][TABLE]) == 2, answers[-1]
        figures: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(rounds):
            for name, client in clients.items():
                figures[name].append(
                    _cpu_ms_per_call(lambda c=client: c.batch_get_item(RequestItems=request), calls)
                )
        Path(answer.name).unlink()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        standin.terminate()
        standin.wait(30)
    close_ms = statistics.median(figures["stand-in"])
    keepalive_ms = statistics.median(figures["keep-alive"])
    return {
        "rounds": rounds,
        "calls_per_round": calls,
        "standin_ms_per_call": close_ms,
        "keepalive_ms_per_call": keepalive_ms,
        "setup_ms_per_call": close_ms - keepalive_ms,
        "runs": figures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--serve", nargs=2, metavar=("ANSWER_FILE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return 0
    figures = measure(args.rounds, args.calls)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
