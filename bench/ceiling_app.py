"""The ceiling for bench/catalog.py: a bare Flask app answering from memory.

It serves, at the same paths and query strings, the very bytes (and the same Content-Type and security
headers) that the shop answered when bench/catalog.py fetched them, with no database, no ORM, no schema
and no hooks. Whatever the shop costs beyond this is the shop's own work.

Started by bench/catalog.py as `gunicorn --workers 2 --bind 127.0.0.1:<port> ceiling_app:app` (from bench/),
with CEILING_RESPONSES naming the JSON file of recorded answers:
    {"<path>?<query>": {"status": 200, "headers": [[name, value], ...], "body_b64": "..."}}
"""

from __future__ import annotations

import base64
import json
import os

from flask import Flask, Response, request

with open(os.environ["CEILING_RESPONSES"], encoding="utf-8") as handle:
    RESPONSES = {
        key: (entry["status"], entry["headers"], base64.b64decode(entry["body_b64"]))
        for key, entry in json.load(handle).items()
    }

app = Flask(__name__)


@app.get("/<path:path>")
def recorded(path: str) -> Response:
    query = request.query_string.decode("ascii")
    key = "/" + path + ("?" + query if query else "")
    found = RESPONSES.get(key)
    if found is None:
        return Response(b'{"error": "not recorded"}', status=404, mimetype="application/json")
    status, headers, body = found
    return Response(body, status=status, headers=headers)
