"""The sign-in limit holds across app servers: workers and servers that share one Redis count attempts together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from shop.accounts.models import User
from shop.accounts.roles import Role
from tests.accounts.test_sessions import SIGN_IN_LIMIT
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# The machine (and CI) runs Redis here; each test keeps its keys under a prefix of its own, so parallel runs on
# the same server never count each other's attempts.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def shared_limits(database_url):
    """Config for app servers that count their limits in the local Redis, under a key prefix of this test."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}): start it (.ci/run does)")
    prefix = f"fupin-test-{uuid.uuid4().hex}"
    yield (
        {
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix},
        },
        prefix,
    )
    keys = list(server.scan_iter(match=f"{prefix}:*"))
    if keys:
        server.delete(*keys)


def sign_in_attempts(config: dict, tmp_path: Path, attempts: list[tuple[str, str]]) -> dict:
    """The statuses an app server of its own (a separate process, like a gunicorn worker) answers."""
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.accounts.login_worker", json.dumps(config), json.dumps(attempts)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_two_app_servers_count_sign_in_attempts_together(make, shared_limits, tmp_path):
    """Two workers (or servers) on one Redis: half the attempts on each reach the limit, and then the right
    password is refused on both. With memory:// each would have allowed 30 of its own."""
    config, _prefix = shared_limits
    email = make.get(User, make.user(Role.CONSUMER)).email
    half = SIGN_IN_LIMIT // 2
    first = sign_in_attempts(config, tmp_path, [(email, "guess")] * half)
    second = sign_in_attempts(config, tmp_path, [(email, "guess")] * (SIGN_IN_LIMIT - half) + [(email, PASSWORD)])
    again_first = sign_in_attempts(config, tmp_path, [(email, PASSWORD)])
    assert first == {"statuses": [422] * half, "signed_in": False}
    assert second == {"statuses": [422] * (SIGN_IN_LIMIT - half) + [429], "signed_in": False}
    assert again_first == {"statuses": [429], "signed_in": False}


def test_the_shared_limit_lives_in_redis_under_the_configured_prefix(make, shared_limits, tmp_path):
    config, prefix = shared_limits
    email = make.get(User, make.user(Role.CONSUMER)).email
    assert sign_in_attempts(config, tmp_path, [(email, PASSWORD)]) == {"statuses": [302], "signed_in": True}
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}:*login*"))
