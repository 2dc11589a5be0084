"""The one rule for spreadsheet cells (shop.web.downloads): text that a spreadsheet would run as a formula is
written with a leading quote; numbers, negative ones too, stay numbers. And every CSV the shop writes uses it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shop.web.downloads import csv_text, spreadsheet_cell, yuan_cell

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","点击")', '\'=HYPERLINK("http://evil.example","点击")'),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("-12.00", "'-12.00"),  # text that looks like a number is still text: numbers are passed as numbers
        ("张三", "张三"),
        ("a=1", "a=1"),
        ("", ""),
        (date(2026, 12, 5), "2026-12-05"),
    ],
)
def test_text_cells_that_start_like_a_formula_get_a_leading_quote(value, written):
    assert spreadsheet_cell(value) == written


@pytest.mark.parametrize("number", [-1200, 0, 1250, Decimal("-12.00"), -0.5, None])
def test_numbers_stay_numbers(number):
    assert spreadsheet_cell(number) is number


def test_amounts_in_yuan_are_numbers_and_negative_ones_are_not_neutralised():
    assert yuan_cell(-1200) == Decimal("-12.00") and str(yuan_cell(-5)) == "-0.05"
    text = csv_text([["户名", "金额（元）"], ["=1+1", yuan_cell(-1250)], ["张三", -1200]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["户名", "金额（元）"],
        ["'=1+1", "-12.50"],
        ["张三", "-1200"],
    ]


def test_every_csv_or_spreadsheet_writer_goes_through_the_one_place():
    writers = re.compile(r"csv\.writer\(|DictWriter|openpyxl|xlsxwriter|text/csv")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("shop", "certification")
        for path in (ROOT / package).rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8")) and path != ROOT / "shop" / "web" / "downloads.py"
    ]
    assert offenders == []
