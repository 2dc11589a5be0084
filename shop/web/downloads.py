"""Files to download shared by pages and the API, and the one place that writes spreadsheet cells.

Every CSV the shop writes goes through `csv_text` (an XLSX writer would pass its cells through
`spreadsheet_cell` the same way), so that text typed by users (a product name, a payout account name, a
household name from an import) can never reach a spreadsheet program as a formula: the operator opens the bank
file in Excel or WPS before sending it, and `=HYPERLINK(...)` in an account name would run there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response

from shop.money import yuan_amount

# OWASP's CSV injection rule: a cell starting with one of these is read as a formula (or, after a tab or a
# carriage return that the program skips, as whatever follows). The full-width forms are in too: spreadsheet
# programs in Chinese locales (WPS, Excel with a Chinese IME) may take ＝ ＋ － ＠ as the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet program would take this text as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def spreadsheet_cell(value: object) -> object:
    """A cell as it may be written: text that a spreadsheet would read as a formula gets a leading quote.

    Numbers stay numbers (an int, or a Decimal such as `yuan_cell(-1200)`, is written as `-12.00` and read
    as minus twelve): only text is neutralised, so a refund's negative amount is not turned into text.
    """
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)  # what the csv module would write anyway (a lazy translation, a date, …)
    return "'" + text if looks_like_formula(text) else text


def yuan_cell(amount_fen: int) -> Decimal:
    """An amount in yuan for a file, as a number (two decimals): the writer leaves numbers as they are."""
    return Decimal(yuan_amount(amount_fen))


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text, every text cell neutralised by `spreadsheet_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue()


# What an API operation answering with `csv_download` documents as its 200 answer in the OpenAPI document.
CSV_RESPONSE_DOC = {
    "description": "A CSV file (UTF-8 with a byte-order mark)",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


def csv_download(rows: Iterable[Sequence[object]], filename: str) -> Response:
    """A CSV file to save: UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    return Response(
        "\ufeff" + csv_text(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
