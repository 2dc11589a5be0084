"""`flask ledger check`: every invariant of docs/ledger.md, each one query; a list of breaches, empty when
the ledger is sound."""

from __future__ import annotations

from sqlalchemy import text

from shop.extensions import db

# (what must hold, a query returning one row per breach)
INVARIANTS: list[tuple[str, str]] = [
    (
        "every entry balances",
        """SELECT entry_id, sum(CASE WHEN side = 'debit' THEN amount_fen ELSE -amount_fen END)
           FROM postings GROUP BY entry_id
           HAVING sum(CASE WHEN side = 'debit' THEN amount_fen ELSE -amount_fen END) <> 0""",
    ),
    (
        "every posting refers to an entry, an account and an order line, shipment and link that exist",
        """SELECT p.id FROM postings p
           LEFT JOIN journal_entries e ON e.id = p.entry_id
           LEFT JOIN ledger_accounts a ON a.id = p.account_id
           LEFT JOIN order_lines l ON l.id = p.order_line_id
           LEFT JOIN shipments s ON s.id = p.shipment_id
           LEFT JOIN benefit_links bl ON bl.id = p.link_id
           WHERE e.id IS NULL OR a.id IS NULL OR (p.order_line_id IS NOT NULL AND l.id IS NULL)
              OR (p.shipment_id IS NOT NULL AND s.id IS NULL) OR (p.link_id IS NOT NULL AND bl.id IS NULL)""",
    ),
    (
        "every entry has at least two postings",
        """SELECT e.id FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
           GROUP BY e.id HAVING count(p.id) < 2""",
    ),
    ("every posting amount is > 0", "SELECT id FROM postings WHERE amount_fen <= 0"),
    (
        "every cached balance equals the sum of its postings",
        """SELECT a.key, a.balance_fen, COALESCE(sum(CASE WHEN p.side = a.normal_side THEN p.amount_fen
                                                      ELSE -p.amount_fen END), 0)
           FROM ledger_accounts a LEFT JOIN postings p ON p.account_id = a.id
           GROUP BY a.id, a.key, a.balance_fen
           HAVING a.balance_fen <> COALESCE(sum(CASE WHEN p.side = a.normal_side THEN p.amount_fen
                                                     ELSE -p.amount_fen END), 0)""",
    ),
    (
        "no payable, receivable, held or in-transit balance is negative",
        """SELECT key, balance_fen FROM ledger_accounts
           WHERE balance_fen < 0 AND kind IN ('orders_held', 'cooperative_payable', 'household_payable',
                                              'cooperative_receivable', 'payouts_in_transit')""",
    ),
    (
        "money held equals the net paid amount of the lines and shipping fees not yet settled",
        """SELECT held.balance_fen, COALESCE(owed.amount, 0) FROM (
               SELECT COALESCE(sum(balance_fen), 0) AS balance_fen FROM ledger_accounts WHERE kind = 'orders_held'
           ) AS held, (
               SELECT sum(amount) AS amount FROM (
                   SELECT l.line_total_fen - COALESCE((
                       SELECT sum(rl.amount_fen) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
                       WHERE rl.order_line_id = l.id AND r.status = 'succeeded'), 0) AS amount
                   FROM order_lines l
                   WHERE l.order_id IN (SELECT order_id FROM journal_entries WHERE code = 'payment')
                     AND NOT EXISTS (SELECT 1 FROM line_settlements ls WHERE ls.order_line_id = l.id)
                   UNION ALL
                   SELECT s.shipping_fee_fen FROM shipments s
                   WHERE s.order_id IN (SELECT order_id FROM journal_entries WHERE code = 'payment')
                     AND NOT EXISTS (SELECT 1 FROM shipment_settlements ss WHERE ss.shipment_id = s.id)
               ) AS unsettled
           ) AS owed
           WHERE held.balance_fen <> COALESCE(owed.amount, 0)""",
    ),
    (
        "every settled line has exactly one settlement entry, for its settled amount",
        """SELECT ls.order_line_id, ls.amount_fen, count(e.id), COALESCE(sum(p.amount_fen), 0)
           FROM line_settlements ls
           LEFT JOIN journal_entries e ON e.order_line_id = ls.order_line_id AND e.code = 'settle'
           LEFT JOIN postings p ON p.entry_id = e.id AND p.side = 'debit'
           GROUP BY ls.order_line_id, ls.amount_fen
           HAVING count(e.id) <> CASE WHEN ls.amount_fen > 0 THEN 1 ELSE 0 END
               OR COALESCE(sum(p.amount_fen), 0) <> ls.amount_fen""",
    ),
    (
        "no settlement entry without a settled line",
        """SELECT e.id FROM journal_entries e
           WHERE e.code = 'settle'
             AND NOT EXISTS (SELECT 1 FROM line_settlements ls WHERE ls.order_line_id = e.order_line_id)""",
    ),
    (
        "a shipment is marked settled exactly when its shipping fee and every line of it are settled",
        """SELECT s.id FROM shipments s
           WHERE (s.settled_at IS NOT NULL) <> (
               EXISTS (SELECT 1 FROM shipment_settlements ss WHERE ss.shipment_id = s.id)
               AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.shipment_id = s.id AND NOT EXISTS (
                   SELECT 1 FROM line_settlements ls WHERE ls.order_line_id = l.id)))""",
    ),
    (
        "every settled line's parts sum to its settled amount",
        """SELECT ls.order_line_id FROM line_settlements ls
           JOIN journal_entries e ON e.order_line_id = ls.order_line_id AND e.code = 'settle'
           JOIN postings p ON p.entry_id = e.id AND p.side = 'credit'
           GROUP BY ls.order_line_id, ls.amount_fen HAVING sum(p.amount_fen) <> ls.amount_fen""",
    ),
    (
        "no part of a settled line gave back more than it received",
        """SELECT p.order_line_id, p.part, p.link_id FROM postings p JOIN journal_entries e ON e.id = p.entry_id
           WHERE e.code IN ('settle', 'refund_settled') AND p.part IS NOT NULL
           GROUP BY p.order_line_id, p.part, p.link_id
           HAVING sum(CASE WHEN e.code = 'settle' AND p.side = 'credit' THEN p.amount_fen ELSE 0 END)
                < sum(CASE WHEN e.code = 'refund_settled' AND p.side = 'debit' THEN p.amount_fen ELSE 0 END)""",
    ),
    (
        "every household amount traces to an order line and its household's link, or to a payout batch",
        """SELECT p.id FROM postings p
           JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_payable'
           JOIN journal_entries e ON e.id = p.entry_id
           LEFT JOIN benefit_links bl ON bl.id = p.link_id
           WHERE NOT (
               (e.code IN ('settle', 'refund_settled') AND p.order_line_id IS NOT NULL
                AND bl.household_id = a.household_id)
               OR (e.code IN ('payout', 'payout_failed') AND e.reference LIKE 'payout_batch:%')
           )""",
    ),
]


def breaches() -> list[str]:
    """What is wrong with the ledger, one line per breach (at most 20 per invariant)."""
    found = []
    for rule, query in INVARIANTS:
        for row in db.session.execute(text(query)).fetchmany(20):
            found.append(f"{rule}: {tuple(row)}")
    return found
