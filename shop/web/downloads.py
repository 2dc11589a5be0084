"""File downloads shared by pages and the API."""

from __future__ import annotations

from flask import Response


def csv_download(text: str, filename: str) -> Response:
    """A CSV file to save: UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
