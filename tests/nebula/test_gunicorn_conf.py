"""Gunicorn sizes itself from the CPUs the container may use, unless told otherwise."""

from pathlib import Path

import pytest

from nebula import gunicorn_conf


@pytest.fixture
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gunicorn_conf.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.usefixtures("two_cpus")
def test_without_a_quota_every_cpu_in_the_affinity_counts(tmp_path: Path) -> None:
    assert gunicorn_conf.usable_cpus(tmp_path) == 2

    write(tmp_path / "cpu.max", "max 100000\n")
    assert gunicorn_conf.usable_cpus(tmp_path) == 2


@pytest.mark.usefixtures("two_cpus")
def test_a_cgroup_v2_quota_caps_the_cpus(tmp_path: Path) -> None:
    write(tmp_path / "cpu.max", "100000 100000\n")

    assert gunicorn_conf.usable_cpus(tmp_path) == 1


@pytest.mark.usefixtures("two_cpus")
def test_a_cgroup_v1_quota_caps_the_cpus_and_a_fraction_counts_as_one(tmp_path: Path) -> None:
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "25000\n")
    write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000\n")

    assert gunicorn_conf.usable_cpus(tmp_path) == 1

    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "-1\n")
    assert gunicorn_conf.usable_cpus(tmp_path) == 2


def test_a_quota_never_raises_the_count_above_the_affinity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gunicorn_conf.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    write(tmp_path / "cpu.max", "400000 100000\n")

    assert gunicorn_conf.usable_cpus(tmp_path) == 1


def test_workers_follow_the_cpus_with_two_at_least(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gunicorn_conf, "usable_cpus", lambda: 4)
    assert gunicorn_conf.worker_count({}) == 4

    monkeypatch.setattr(gunicorn_conf, "usable_cpus", lambda: 1)
    assert gunicorn_conf.worker_count({}) == 2


def test_web_concurrency_overrides_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gunicorn_conf, "usable_cpus", lambda: 8)

    assert gunicorn_conf.worker_count({"WEB_CONCURRENCY": "3"}) == 3
    assert gunicorn_conf.worker_count({"WEB_CONCURRENCY": " "}) == 8
