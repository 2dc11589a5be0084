"""Domain errors: services raise these; one handler (shop.api_errors) maps them to HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class MalformedInput(DomainError):
    """A request that cannot be read at all (e.g. a body that is not usable JSON), as opposed to a field that
    breaks a rule."""

    status = 400
    code = "bad_request"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; `fields` names what is wrong."""

    status = 422
    code = "validation_failed"

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, fields={field: [message]})


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class InvalidTransition(Conflict):
    """The action is not allowed from the object's current state (or the state changed meanwhile)."""

    code = "invalid_transition"
