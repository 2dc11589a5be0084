"""Fixtures for payments: the real local Stripe emulator (localstripe), never a hand-written fake of Stripe's API.

- `localstripe_server` (session): `python -m localstripe --port <free port> --from-scratch` in a subprocess; yields
  its base URL ("http://127.0.0.1:<port>") and stops it at the end of the session.
- `stripe_config`: points the app's STRIPE_* config at that emulator for one test (restored afterwards); yields
  the values it set.
- `localstripe_webhook`: a small HTTP server on 127.0.0.1 registered with the emulator as a webhook endpoint;
  it collects what the emulator posts (body and headers, exactly as received).
- `register_localstripe_webhook` / `disable_localstripe_webhook`: the emulator's `/_config/webhooks/<name>`.

The emulator keeps its state in one fixed file, /tmp/localstripe.pickle (hard-coded in localstripe.resources.Store,
written after every change, read at start only without --from-scratch). The fixture starts it with --from-scratch,
so it never reads that file, and puts back whatever the file held before the session (or removes it), so a
developer's own `localstripe` keeps its data. Run one test session against it at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Hard-coded in localstripe/resources.py (Store.try_load_from_disk / dump_to_disk).
LOCALSTRIPE_STATE_FILE = Path("/tmp/localstripe.pickle")  # noqa: S108 (the emulator's choice, not ours)
START_DEADLINE_SECONDS = 30.0
START_ATTEMPTS = 3  # a free port can be taken between our check and the emulator's bind


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_answering(process: subprocess.Popen, base_url: str, deadline: float) -> bool:
    """True once the emulator serves its fake Stripe.js (a request with no side effect); False if it exited."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=1) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):  # the pause between polls: is it still running?
            process.wait(timeout=0.05)
    raise TimeoutError(f"localstripe did not answer at {base_url} within {START_DEADLINE_SECONDS:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def _state_file_preserved() -> Iterator[None]:
    """Whatever /tmp/localstripe.pickle held before is put back afterwards (or the file removed)."""
    if LOCALSTRIPE_STATE_FILE.exists() and not os.access(LOCALSTRIPE_STATE_FILE, os.W_OK):
        pytest.fail(
            f"{LOCALSTRIPE_STATE_FILE} exists and is not writable by this user: localstripe writes its state there "
            "after every request and would answer 500. Remove it or run the tests as its owner."
        )
    before = LOCALSTRIPE_STATE_FILE.read_bytes() if LOCALSTRIPE_STATE_FILE.exists() else None
    try:
        yield
    finally:
        if before is None:
            LOCALSTRIPE_STATE_FILE.unlink(missing_ok=True)
        else:
            LOCALSTRIPE_STATE_FILE.write_bytes(before)


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("localstripe")
    with _state_file_preserved():
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            base_url = f"http://127.0.0.1:{port}"
            log_path = workdir / f"localstripe-{attempt}.log"
            with log_path.open("wb") as log:  # a file, not a pipe: its access log must never fill a buffer
                process = subprocess.Popen(
                    [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                    cwd=workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                answering = _wait_until_answering(process, base_url, time.monotonic() + START_DEADLINE_SECONDS)
            except TimeoutError as error:
                _stop(process)
                pytest.fail(f"{error}; its log:\n{_log_tail(log_path)}")
            except BaseException:
                _stop(process)
                raise
            if answering:
                break
            _stop(process)
        else:
            pytest.fail(f"localstripe did not start in {START_ATTEMPTS} attempts; its log:\n{_log_tail(log_path)}")
        try:
            yield base_url
        finally:
            _stop(process)


@pytest.fixture
def stripe_config(app, localstripe_server, monkeypatch) -> dict:
    """The app's STRIPE_* settings pointed at the emulator for this test; monkeypatch restores them afterwards.

    STRIPE_PAYMENT_METHOD_TYPES is left to its default (["card", "alipay", "wechat_pay"]): the emulator accepts it.
    """
    values = {
        "STRIPE_SECRET_KEY": "sk_test_localstripe",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
        "STRIPE_API_BASE": localstripe_server,
        "STRIPE_JS_URL": f"{localstripe_server}/js.stripe.com/v3/",
        "STRIPE_WEBHOOK_SECRET": f"whsec_test_{uuid.uuid4().hex}",
        "STRIPE_TIMEOUT_SECONDS": 10,
    }
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)
    return values


def _post_json(url: str, body: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200, answer.status


def register_localstripe_webhook(
    base_url: str, name: str, *, url: str, secret: str, events: list[str] | None = None
) -> None:
    """Ask the emulator to post events (all, or only `events`) to `url`, signed with `secret`.

    It keeps webhooks in memory (not in its state file) and posts each event once, about a second after it
    happened, to every registered webhook; a failed delivery is logged and never retried.
    """
    body: dict = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = events
    _post_json(f"{base_url}/_config/webhooks/{name}", body)


def disable_localstripe_webhook(base_url: str, name: str) -> None:
    """The emulator cannot delete a webhook: re-register it with an empty event list, so nothing is posted."""
    _post_json(f"{base_url}/_config/webhooks/{name}", {"url": "http://127.0.0.1:9/", "secret": "off", "events": []})


@dataclass(frozen=True)
class ReceivedWebhook:
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """What the emulator posted, in arrival order; `wait_for` blocks on a condition, not on sleeps."""

    url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def add(self, item: ReceivedWebhook) -> None:
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()

    def wait_for(self, match: Callable[[dict], bool], timeout: float = 10.0) -> ReceivedWebhook:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for item in self.received:
                    if match(item.event):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [item.event.get("type") for item in self.received]
                    raise AssertionError(f"no matching webhook within {timeout}s; received: {seen}")
                self._arrived.wait(remaining)


def _receiver_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.add(ReceivedWebhook(body=body, headers={k: v for k, v in self.headers.items()}))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def localstripe_webhook(localstripe_server, stripe_config) -> Iterator[WebhookReceiver]:
    """A webhook endpoint on 127.0.0.1 that the emulator posts every event to, signed with STRIPE_WEBHOOK_SECRET.

    Events of earlier tests can still arrive (the emulator posts a second late): match on the object's id.
    """
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _receiver_handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
    )
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook"
    name = f"test-{uuid.uuid4().hex[:12]}"
    register_localstripe_webhook(
        localstripe_server, name, url=receiver.url, secret=stripe_config["STRIPE_WEBHOOK_SECRET"]
    )
    try:
        yield receiver
    finally:
        disable_localstripe_webhook(localstripe_server, name)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
