"""The session cookie is for the pages; the API never reads it (it authenticates by bearer token only)."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, not opened under /api/: no cookie is read or written there, so no API
    answer depends on (or sets) one, and an API request saves the session's signing work (measured by the
    catalogue benchmark, where it was a tenth of a cached answer)."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)
