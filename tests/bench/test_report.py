"""make bench's report: the stand-in's connection cost is extra information beside the figures."""

import pytest

from bench.run import _connection_setup_lines

pytestmark = pytest.mark.no_dynamodb


def _page(nebula_cpu: float, baseline_cpu: float, calls: float) -> dict:
    return {
        "Nebula": {"cpu_ms_per_request": nebula_cpu, "dynamodb_calls_per_request": calls},
        "baseline": {"cpu_ms_per_request": baseline_cpu, "dynamodb_calls_per_request": None},
    }


def test_the_ratio_without_the_connection_cost_takes_it_out_once_per_call() -> None:
    web = {
        "pages": {
            "home": _page(1.2, 1.0, 0.0),
            "profile": _page(5.5, 4.0, 1.0),
            "sessions": _page(12.0, 8.0, 2.0),
        }
    }
    setup = {
        "setup_ms_per_call": 0.5,
        "standin_ms_per_call": 1.2,
        "keepalive_ms_per_call": 0.7,
        "rounds": 5,
        "calls_per_round": 200,
    }

    text = "\n".join(_connection_setup_lines(web, setup))

    assert "not the figure" in text  # labelled: the measured ratio stays the figure
    # (5.5 - 1 x 0.5) / 4.0 and (12 - 2 x 0.5) / 8.0; a page without calls is not listed.
    assert text.endswith(
        "profile 1.25\N{MULTIPLICATION SIGN}; sessions 1.38\N{MULTIPLICATION SIGN}."
    )
    assert "home" not in text


def test_no_measurement_adds_nothing() -> None:
    assert _connection_setup_lines({"pages": {}}, None) == []
