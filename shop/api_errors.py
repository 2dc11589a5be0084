"""One place that turns every error into an answer.

Under /api/ every error is `{"error": {"code", "message", "fields"}}`; elsewhere an HTML page in the UI
language. flask-smorest registers its handler for every HTTPException app-wide, so this subclass decides by
path and also documents the envelope in the OpenAPI document.
"""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from shop.errors import DomainError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Machine-readable error code"})
    message = ma.fields.String(required=True, metadata={"description": "Human-readable explanation"})
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Per-field messages: field name → list of messages"},
    )


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _flatten_webargs_messages(messages) -> dict:
    """webargs nests messages by location ({"json": {...}, "query": {...}}); clients want field names."""
    fields: dict = {}
    if isinstance(messages, dict):
        for location, value in messages.items():
            if isinstance(value, dict):
                fields.update(_string_keys(value))
            else:
                fields[location] = value if isinstance(value, list) else [value]
    return fields


def _string_keys(messages):
    """marshmallow keys a list's errors by index (int) next to "_schema" (str): JSON keys are strings anyway, and
    mixed ones could not be sorted into the answer."""
    if isinstance(messages, dict):
        return {str(key): _string_keys(value) for key, value in messages.items()}
    return messages


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    if is_api_request():
        response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    body = render_template("errors/error.html", status=status, message=message, fields=fields or {})
    return Response(body, status=status, mimetype="text/html")


def _http_message(error: HTTPException) -> tuple[str, dict]:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    fields = _flatten_webargs_messages(messages) if messages else {}
    if error.code == 400 and fields.get("json") and not isinstance(fields["json"], dict):
        return _("The request body is not valid JSON."), {"json": fields["json"]}
    if error.code == 422:
        return _("Some fields are not valid."), fields
    if error.code == 413:
        return _("The upload is too large."), fields
    messages_by_code = {
        400: _("The request could not be understood."),
        401: _("Please sign in first."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        429: _("Too many requests: please wait a moment and try again."),
    }
    return messages_by_code.get(error.code, error.description or error.name), fields


class ShopApi(Api):
    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self):
        super()._register_error_handlers()
        self._app.register_error_handler(DomainError, self.handle_domain_error)

    def handle_http_exception(self, error: HTTPException):
        if isinstance(error, InternalServerError):
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.exception("unhandled error", exc_info=original)
            return error_response(500, "internal_error", _("Something went wrong on our side."))
        status = error.code or 500
        message, fields = _http_message(error)
        response = error_response(status, HTTP_CODES.get(status, "error"), message, fields)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @staticmethod
    def handle_domain_error(error: DomainError):
        return error_response(error.status, error.code, error.message, error.fields)
