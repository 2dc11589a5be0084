"""Input that no column can store is refused at the door: one check for every route, page and API alike.

PostgreSQL refuses the NUL character in text, and an unpaired surrogate (JSON's "\\ud800") cannot be encoded to
UTF-8 for either database; Python's json gives up on a document nested a thousand levels deep (RecursionError)
or on a number of more than 4,300 digits (ValueError); an integer of more than 64 bits fits no column, and a row
id above 2**31 - 1 fits no Integer primary key on PostgreSQL. Rather than every schema, form and view guarding
against these (and the next new one forgetting), `refuse_unstorable_input` runs before every view and looks at
all a request carries: the path, the query string, the form with its file names and the JSON body. It answers
404 for a path (nothing can be found by such a name), 400 for a body that is not usable JSON, and 422 naming
the field for any other value. Ids in paths are bounded by `RowIdConverter` (Flask's `int` converter, replaced
app-wide) and ids in query strings and bodies by `RowId` (a marshmallow field), so each is documented in the
OpenAPI document as what it is.
"""

from __future__ import annotations

import json
import math
import re

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from marshmallow import validate
from werkzeug.routing import IntegerConverter
from wtforms.validators import StopValidation

from shop.errors import MalformedInput, NotFound, ValidationFailed

MAX_ROW_ID = 2**31 - 1  # Integer primary keys on PostgreSQL (SQLite's reach further)
MAX_STORED_INT = 2**63 - 1  # BigInteger, the widest integer column on either database
MAX_JSON_DEPTH = 32  # no schema nests more than a few levels; anything deeper is not a request of ours
# NUL, which PostgreSQL refuses in text, and the surrogates, which no UTF-8 encoder accepts on their own.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _numbers_up_to(limit: int) -> str:
    """A regular expression of the decimal numbers from 0 to `limit` (leading zeros allowed)."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    # As long as `limit`: its first i digits, then a smaller digit, then any digits.
    same_length = [
        digits[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{len(digits) - i - 1}}}" if i < len(digits) - 1 else "")
        for i, digit in enumerate(digits)
        if digit != "0"
    ]
    return "0*(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class RowIdConverter(IntegerConverter):
    """Flask's `int` URL converter, bounded to the ids a row can have: /products/2147483648 matches no route
    (404), instead of reaching the database with a number its column cannot hold.

    The bound is in the regular expression, not only in `max`: werkzeug checks a rule's methods before its
    converters, so a number refused by `max` on a path that also has rules for other methods would get 405.
    """

    regex = _numbers_up_to(MAX_ROW_ID)

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ROW_ID, **kwargs):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, **kwargs)


class RowId(ma.fields.Integer):
    """A row id in a query string or a body: a whole number from 1 to 2**31 - 1 (documented in OpenAPI)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ROW_ID))
        super().__init__(**kwargs)


def row_id(value: str) -> int:
    """`request.args.get(name, type=row_id)`: None (as for any unusable value) unless a possible row id."""
    number = int(value)
    if not 1 <= number <= MAX_ROW_ID:
        raise ValueError(value)
    return number


def row_id_or_none(value: str | None) -> int | None:
    try:
        return row_id(value or "")
    except ValueError:
        return None


def is_row_id(_form, field) -> None:
    """WTForms validator of a row id given as text (a hidden field of a form)."""
    if row_id_or_none(field.data) is None:
        raise StopValidation(_("Not a valid id."))


def printable(name: str) -> str:
    """A field name fit to be shown and encoded: the characters refused here written as \\uXXXX."""
    return UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", name)


def _unstorable(value) -> bool:
    """A text that cannot be stored (a multipart part may come without a name or a file name: None)."""
    return isinstance(value, str) and UNSTORABLE.search(value) is not None


def _unstorable_text() -> str:
    return _("This contains a character that cannot be stored (NUL or an unpaired surrogate).")


def reads_its_own_body(view):
    """Mark a view whose JSON body this hook leaves alone: one that must verify the body's bytes as sent (a signed
    webhook) and answers a malformed body itself, by its own schema. Its path, query and form are still checked."""
    view.__reads_its_own_body__ = True
    return view


def _view_reads_its_own_body() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "__reads_its_own_body__", False)


def refuse_unstorable_input() -> None:
    """The before-request hook (registered after the access and CSRF checks, so a stranger still gets 401)."""
    if any(_unstorable(value) for value in (request.view_args or {}).values()):
        raise NotFound(_("Not found."))
    bad: dict[str, list[str]] = {}
    for source in (request.args, request.form):
        for key, values in source.lists():
            if _unstorable(key) or any(_unstorable(value) for value in values):
                bad[printable(key or "")] = [_unstorable_text()]
    for key, upload in request.files.items(multi=True):
        if _unstorable(key) or _unstorable(upload.filename):
            bad[printable(key or "")] = [_unstorable_text()]
    if request.is_json and not _view_reads_its_own_body():
        bad.update(_refused_in_json(request.get_data(cache=True)))
    if bad:
        raise ValidationFailed(_("Some fields are not valid."), fields=bad)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _refused_in_json(body: bytes) -> dict[str, list[str]]:
    """Problems of the JSON body by field (dotted path); MalformedInput when it is no usable JSON at all.

    The body is parsed here and again by webargs: a few microseconds for the small bodies of this API, and
    webargs then never meets a document it cannot handle.
    """
    if not body:
        return {}  # webargs treats an empty body as no body; the schema says what is missing
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise _not_json(_("Nested too deeply.")) from None
    except ValueError as error:  # also UnicodeDecodeError, and a number of more than 4,300 digits
        raise _not_json(_("Invalid JSON body.")) from error
    bad: dict[str, list[str]] = {}
    stack: list[tuple[str, object, int]] = [("", document, 0)]  # a loop, not recursion: depth is what we check
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _not_json(_("Nested too deeply."))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                child = f"{path}.{key}" if path else str(key)
                if _unstorable(key):
                    bad[printable(child)] = [_unstorable_text()]
                    continue
                stack.append((child, item, depth + 1))
        elif _unstorable(value):
            bad[printable(path or "json")] = [_unstorable_text()]
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -MAX_STORED_INT <= value <= MAX_STORED_INT:
                bad[printable(path or "json")] = [_("This number is too large.")]
        elif isinstance(value, float) and not math.isfinite(value):
            bad[printable(path or "json")] = [_("This number is too large.")]
    return bad


def _not_json(reason: str) -> MalformedInput:
    return MalformedInput(_("The request body is not valid JSON."), fields={"json": [reason]})
