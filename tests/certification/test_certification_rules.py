"""The certification rules without a database: the transition table, working days, validity, numbers."""

from datetime import date

import pytest

from certification.models import State
from certification.rules import (
    FINAL_STATES,
    TRANSITIONS,
    Action,
    Actor,
    add_working_days,
    certificate_is_valid,
    certificate_number,
    is_working_day,
    moves_from,
    validity_end,
)

# The workflow as the issue states it, row by row: (from, action) → (to, actor, comment required).
EXPECTED = {
    ("draft", "submit"): ("submitted", "applicant", False),
    ("returned", "submit"): ("submitted", "applicant", False),
    ("submitted", "county_approve"): ("county_approved", "county_reviewer", False),
    ("submitted", "return"): ("returned", "county_reviewer", True),
    ("submitted", "reject"): ("rejected", "county_reviewer", True),
    ("county_approved", "return"): ("returned", "province_reviewer", True),
    ("county_approved", "reject"): ("rejected", "province_reviewer", True),
    ("county_approved", "province_approve"): ("public_notice", "province_reviewer", False),
    ("public_notice", "object"): ("public_notice", "signed_in", True),
    ("public_notice", "uphold_objection"): ("rejected", "province_reviewer", True),
    ("public_notice", "dismiss_objection"): ("public_notice", "province_reviewer", True),
    ("public_notice", "end_notice"): ("certified", "job", False),
    ("certified", "suspend"): ("suspended", "supervisor", True),
    ("suspended", "reinstate"): ("certified", "supervisor", False),
    ("certified", "revoke"): ("revoked", "supervisor", True),
    ("suspended", "revoke"): ("revoked", "supervisor", True),
    ("certified", "expire"): ("expired", "job", False),
    ("suspended", "expire"): ("expired", "job", False),
    ("certified", "supersede"): ("superseded", "job", False),
    ("suspended", "supersede"): ("superseded", "job", False),
}


def test_the_table_is_exactly_the_reviewed_workflow():
    # Each move names exactly one actor (a tuple of another length would not match its row).
    actual = {
        (s.value, a.value): (m.to.value, *sorted(m.actors), m.reason_required) for (s, a), m in TRANSITIONS.items()
    }
    assert actual == EXPECTED


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_final_states_have_no_way_out(state):
    assert moves_from(state) == {}


def test_every_state_but_the_final_ones_can_be_left():
    for state in State:
        if state not in FINAL_STATES:
            assert moves_from(state), state


def test_no_person_can_end_a_notice_or_expire_a_certificate():
    for action in (Action.END_NOTICE, Action.EXPIRE, Action.SUPERSEDE):
        assert set().union(*(m.actors for (s, a), m in TRANSITIONS.items() if a == action)) == {Actor.JOB}


# 2026 (State Council schedule): Oct 1–7 National Day holidays, Sat Oct 10 a make-up working day.
HOLIDAYS = {date(2026, 10, d) for d in range(1, 8)}
WORKDAYS = {date(2026, 10, 10), date(2026, 9, 20)}


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 28), True),  # Monday
        (date(2026, 9, 26), False),  # Saturday
        (date(2026, 9, 20), True),  # Sunday, but a make-up working day
        (date(2026, 10, 1), False),  # Thursday, National Day
        (date(2026, 10, 10), True),  # Saturday, make-up working day
    ],
)
def test_working_days(day, working):
    assert is_working_day(day, HOLIDAYS, WORKDAYS) is working


@pytest.mark.parametrize(
    ("start", "count", "end"),
    [
        (date(2026, 11, 2), 5, date(2026, 11, 9)),  # Monday + 5 working days: next Monday
        (date(2026, 11, 6), 1, date(2026, 11, 9)),  # Friday + 1: Monday
        (date(2026, 11, 7), 5, date(2026, 11, 13)),  # approved on a Saturday: Mon–Fri
        # approved Tue 29 Sep: Wed 30 Sep, then the holidays, then Thu 8, Fri 9, Sat 10 (make-up), Mon 12
        (date(2026, 9, 29), 5, date(2026, 10, 12)),
    ],
)
def test_add_working_days_skips_weekends_and_holidays_and_counts_make_up_days(start, count, end):
    assert add_working_days(start, count, HOLIDAYS, WORKDAYS) == end


def test_add_working_days_needs_a_positive_count():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), 0, set(), set())


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (date(2026, 6, 15), 2, date(2028, 6, 14)),
        (date(2028, 2, 29), 2, date(2030, 2, 28)),
        (date(2026, 1, 1), 1, date(2026, 12, 31)),
    ],
)
def test_validity_end(start, years, end):
    assert validity_end(start, years) == end


def test_certificate_is_valid_only_while_certified_and_in_its_dates():
    start, end = date(2026, 1, 1), date(2027, 12, 31)
    assert certificate_is_valid("certified", start, end, date(2026, 1, 1))
    assert certificate_is_valid("certified", start, end, date(2027, 12, 31))
    assert not certificate_is_valid("certified", start, end, date(2028, 1, 1))
    assert not certificate_is_valid("certified", start, end, date(2025, 12, 31))
    for state in ("suspended", "revoked", "expired", "superseded", "public_notice"):
        assert not certificate_is_valid(state, start, end, date(2026, 6, 1))


def test_certificate_number_format():
    assert certificate_number("130000", 2026, 42) == "FP13-2026-000042"
