"""gunicorn.conf.py: several workers counting rate limits each in its own memory are warned about at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shop.config import per_worker_limits_warning

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
WARNING = "keep their rate limits in memory"


@pytest.mark.parametrize(
    ("workers", "storage_uri", "warns"),
    [
        (2, "memory://", True),
        (8, "memory://", True),
        (1, "memory://", False),
        (2, "redis://127.0.0.1:6379/0", False),
        (4, "redis+sentinel://127.0.0.1:26379/shop", False),
    ],
)
def test_only_several_workers_on_memory_are_warned_about(workers, storage_uri, warns):
    warning = per_worker_limits_warning(workers, storage_uri)
    assert (warning is not None) == warns
    if warns:
        assert f"{workers} workers" in warning and "RATELIMIT_STORAGE_URI" in warning


def gunicorn_start_log(tmp_path: Path, **env: str) -> str:
    """What `gunicorn --workers 2 wsgi:app` (as `make run` starts it) logs until its first worker boots."""
    environment = {k: v for k, v in os.environ.items() if k not in ("RATELIMIT_STORAGE_URI", "DATABASE_URL")}
    # HOME: gunicorn's control socket goes under ~/.gunicorn; never beside a developer's running server.
    environment |= {"HOME": str(tmp_path), "INSTANCE_PATH": str(tmp_path / "instance"), **env}
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    booted = threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if "Booting worker" in line:
                booted.set()
        booted.set()  # gunicorn exited: the assertion below shows its log

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        booted.wait(timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)
    log = "".join(lines)
    assert "Booting worker" in log, log
    return log


def test_make_runs_two_workers_on_memory_are_warned_about_at_start_up(tmp_path):
    log = gunicorn_start_log(tmp_path)
    assert "[WARNING] 2 workers keep their rate limits in memory (memory://)" in log
    # Said once, by the master, before any worker serves.
    assert log.count(WARNING) == 1 and log.index(WARNING) < log.index("Booting worker")


def test_workers_sharing_redis_start_without_the_warning(tmp_path):
    log = gunicorn_start_log(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert WARNING not in log
