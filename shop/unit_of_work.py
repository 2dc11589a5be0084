"""The unit of work for entry points other than a web request (CLI commands, scheduled jobs).

A web request commits in `create_app`'s after-request hook; everything else wraps its use case in
`use_case()`: committed once at the end, rolled back on any error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shop.extensions import db


@contextmanager
def use_case() -> Iterator[None]:
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
