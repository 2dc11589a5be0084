import pytest

from shop.money import format_fen, parse_yuan


@pytest.mark.parametrize(("fen", "text"), [(0, "¥0.00"), (5, "¥0.05"), (123456, "¥1,234.56"), (-250, "-¥2.50")])
def test_format_fen(fen, text):
    assert format_fen(fen) == text


@pytest.mark.parametrize(("text", "fen"), [("12", 1200), ("12.5", 1250), ("12.05", 1205), ("0.01", 1), (" 3.30 ", 330)])
def test_parse_yuan_is_exact(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "-1", "1e3", "1,000", "0x10", "１２"])
def test_parse_yuan_refuses_what_is_not_an_amount(text):
    assert parse_yuan(text) is None


@pytest.mark.parametrize(
    "fen, text", [(1250, "12.50"), (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (123456789, "1234567.89")]
)
def test_yuan_amount_for_files_always_has_two_decimals(fen, text):
    from shop.money import yuan_amount

    assert yuan_amount(fen) == text
