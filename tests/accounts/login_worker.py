"""One app server for tests/platform/test_shared_rate_limits.py, run as its own process:
`python -m tests.accounts.login_worker CONFIG_JSON ATTEMPTS_JSON` builds create_app(CONFIG), posts each
[email, password] attempt to /login through its test client, and prints {"statuses": [...], "signed_in": bool} as JSON.

A process of its own, like a gunicorn worker: Flask-Limiter's limiter is one object per process, so only separate
processes show whether two app servers count their limits together.
"""

from __future__ import annotations

import json
import re
import sys

from shop import create_app

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main(config: dict, attempts: list[list[str]]) -> dict:
    app = create_app(config)
    client = app.test_client()
    statuses = []
    for email, password in attempts:
        token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
        answer = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        statuses.append(answer.status_code)
    return {"statuses": statuses, "signed_in": client.get("/account/tokens").status_code == 200}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]), json.loads(sys.argv[2]))))
