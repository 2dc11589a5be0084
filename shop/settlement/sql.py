"""Set-based settlement: a run is a handful of INSERT … SELECT statements over every due line, the same on
PostgreSQL and SQLite (window functions, ON CONFLICT, UPDATE … FROM).

The split is the rule of shop/settlement/rules.py written in SQL; tests/settlement compares the two on random
data. Statements take `:run`, `:now` and `:cutoff` (delivered before it: the refund window has passed) and the
platform accounts' ids."""

from __future__ import annotations

from shop.settlement.rules import BASIS_POINTS, HOUSEHOLD_SHARE_SQL

OPEN_ACCOUNTS = """
INSERT INTO ledger_accounts (key, kind, normal_side, cooperative_id, household_id, balance_fen)
SELECT 'cooperative_payable:' || c.id, 'cooperative_payable', 'credit', c.id, CAST(NULL AS INTEGER), 0
FROM cooperatives c
WHERE true
UNION ALL
SELECT DISTINCT 'household_payable:' || bl.household_id, 'household_payable', 'credit', CAST(NULL AS INTEGER),
       bl.household_id, 0
FROM benefit_links bl WHERE bl.status = 'confirmed'
ON CONFLICT (key) DO NOTHING
"""

# The run works in stages through temporary tables, each analysed before the next statement is planned: the
# planner otherwise sees the run's own new rows as "a few" and picks nested loops that take minutes on a
# million lines (measured by bench/settlement.py). Temporary tables vanish with the transaction on rollback.
DROP_STAGES = [f"DROP TABLE IF EXISTS {table}" for table in ("settle_due_lines", "settle_lines", "settle_links")]

CREATE_STAGES = [
    """CREATE TEMP TABLE settle_due_lines (
        line_id INTEGER, amount_fen BIGINT, fee_bp INTEGER, household_bp INTEGER)""",
    """CREATE TEMP TABLE settle_lines (
        line_id INTEGER, entry_id INTEGER, cooperative_id INTEGER, product_id INTEGER,
        a BIGINT, fee BIGINT, households BIGINT, cooperative BIGINT)""",
    """CREATE TEMP TABLE settle_links (
        line_id INTEGER, entry_id INTEGER, account_id INTEGER, link_id INTEGER, amount_fen BIGINT)""",
]

# Due: delivered before the cutoff (the refund window has passed), paid, not settled, and no refund open on it
# (asked, or approved and not yet answered). The amount is what was paid net of refunds already made. Only
# shipments not yet settled in full are looked at (a partial index holds them), never the whole history.
FIND_DUE_LINES = """
INSERT INTO settle_due_lines (line_id, amount_fen, fee_bp, household_bp)
SELECT l.id, l.line_total_fen - COALESCE(refunded.amount_fen, 0), :fee_bp,
       HOUSEHOLD_SHARE
FROM shipments s
JOIN order_lines l ON l.shipment_id = s.id
JOIN orders o ON o.id = l.order_id
JOIN products p ON p.id = l.product_id
JOIN cooperatives c ON c.id = l.cooperative_id
LEFT JOIN (
    SELECT rl.order_line_id, sum(rl.amount_fen) AS amount_fen
    FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
    WHERE r.status = 'succeeded' GROUP BY rl.order_line_id
) AS refunded ON refunded.order_line_id = l.id
LEFT JOIN line_settlements done ON done.order_line_id = l.id
WHERE s.settled_at IS NULL AND s.status = 'delivered' AND s.delivered_at <= :cutoff
  AND o.status IN ('paid', 'completed')
  AND done.order_line_id IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
      WHERE rl.order_line_id = l.id AND r.status IN ('requested', 'approved'))
""".replace("HOUSEHOLD_SHARE", HOUSEHOLD_SHARE_SQL.format(product="p", cooperative="c"))

# The primary key of line_settlements is the line: a line another run settled meanwhile is skipped.
CLAIM_LINES = """
INSERT INTO line_settlements (order_line_id, run_id, amount_fen, fee_bp, household_bp, settled_at)
SELECT line_id, :run, amount_fen, fee_bp, household_bp, :now FROM settle_due_lines WHERE true
ON CONFLICT (order_line_id) DO NOTHING
"""

CLAIM_SHIPMENTS = """
INSERT INTO shipment_settlements (shipment_id, run_id, amount_fen, settled_at)
SELECT s.id, :run, s.shipping_fee_fen, :now
FROM shipments s JOIN orders o ON o.id = s.order_id
WHERE s.settled_at IS NULL AND s.status = 'delivered' AND s.delivered_at <= :cutoff
  AND o.status IN ('paid', 'completed')
  AND NOT EXISTS (SELECT 1 FROM shipment_settlements done WHERE done.shipment_id = s.id)
ON CONFLICT (shipment_id) DO NOTHING
"""

WRITE_ENTRIES = """
INSERT INTO journal_entries (code, reference, idempotency_key, order_id, order_line_id, memo, created_at)
SELECT 'settle', 'order_line:' || ls.order_line_id, 'settle:' || ls.order_line_id, l.order_id, ls.order_line_id,
       '', :now
FROM line_settlements ls JOIN order_lines l ON l.id = ls.order_line_id
WHERE ls.run_id = :run AND ls.amount_fen > 0
UNION ALL
SELECT 'settle_shipping', 'shipment:' || ss.shipment_id, 'settle_shipping:' || ss.shipment_id, s.order_id, NULL,
       '', :now
FROM shipment_settlements ss JOIN shipments s ON s.id = ss.shipment_id
WHERE ss.run_id = :run AND ss.amount_fen > 0
"""

# Largest remainder over [fee, households, cooperative]: a part gets one more fen when its rank (remainder
# descending, then list position) is within the fen left over. With three parts the rank is a sum of tests.
SPLIT_LINES = """
WITH due AS (
    SELECT ls.order_line_id AS line_id, CAST(ls.amount_fen AS BIGINT) AS a, ls.fee_bp, ls.household_bp,
           BASIS_POINTS - ls.fee_bp - ls.household_bp AS cooperative_bp, l.cooperative_id, l.product_id,
           e.id AS entry_id
    FROM line_settlements ls
    JOIN order_lines l ON l.id = ls.order_line_id
    JOIN journal_entries e ON e.order_line_id = ls.order_line_id AND e.code = 'settle'
    WHERE ls.run_id = :run AND ls.amount_fen > 0
),
floors AS (
    SELECT line_id, a, cooperative_id, product_id, entry_id,
           a * fee_bp / BASIS_POINTS AS f0, a * fee_bp % BASIS_POINTS AS fr,
           a * household_bp / BASIS_POINTS AS h0, a * household_bp % BASIS_POINTS AS hr,
           a * cooperative_bp / BASIS_POINTS AS c0, a * cooperative_bp % BASIS_POINTS AS cr
    FROM due
)
INSERT INTO settle_lines (line_id, entry_id, cooperative_id, product_id, a, fee, households, cooperative)
SELECT line_id, entry_id, cooperative_id, product_id, a,
       f0 + CASE WHEN 1 + CASE WHEN hr > fr THEN 1 ELSE 0 END + CASE WHEN cr > fr THEN 1 ELSE 0 END
                      <= a - f0 - h0 - c0 THEN 1 ELSE 0 END,
       h0 + CASE WHEN 1 + CASE WHEN fr >= hr THEN 1 ELSE 0 END + CASE WHEN cr > hr THEN 1 ELSE 0 END
                      <= a - f0 - h0 - c0 THEN 1 ELSE 0 END,
       c0 + CASE WHEN 1 + CASE WHEN fr >= cr THEN 1 ELSE 0 END + CASE WHEN hr >= cr THEN 1 ELSE 0 END
                      <= a - f0 - h0 - c0 THEN 1 ELSE 0 END
FROM floors
""".replace("BASIS_POINTS", str(BASIS_POINTS))

# The households' part of each line over its confirmed links (narrowed to the product's sourcing when it has
# one), by weight, largest remainder, ties by household id then link id. A line whose households' part is 0
# needs no link parts (they would all be 0).
SPLIT_LINKS = """
WITH sourced AS (SELECT DISTINCT product_id FROM product_sourcing),
sharing AS (
    SELECT t.line_id, t.entry_id, t.households, bl.id AS link_id, bl.household_id, ha.id AS account_id,
           CAST(bl.weight AS BIGINT) AS weight
    FROM settle_lines t
    JOIN benefit_links bl ON bl.cooperative_id = t.cooperative_id AND bl.status = 'confirmed'
    JOIN ledger_accounts ha ON ha.kind = 'household_payable' AND ha.household_id = bl.household_id
    LEFT JOIN sourced ON sourced.product_id = t.product_id
    LEFT JOIN product_sourcing ps ON ps.product_id = t.product_id AND ps.household_id = bl.household_id
    WHERE t.households > 0 AND (sourced.product_id IS NULL OR ps.product_id IS NOT NULL)
),
link_floors AS (
    SELECT line_id, entry_id, households, link_id, household_id, account_id,
           -- sum() of a bigint is numeric on PostgreSQL: cast back, or the division would not be integer.
           households * weight / CAST(sum(weight) OVER (PARTITION BY line_id) AS BIGINT) AS base,
           households * weight % CAST(sum(weight) OVER (PARTITION BY line_id) AS BIGINT) AS remainder
    FROM sharing
),
link_ranks AS (
    SELECT line_id, entry_id, link_id, account_id, base,
           households - CAST(sum(base) OVER (PARTITION BY line_id) AS BIGINT) AS left_over,
           row_number() OVER (PARTITION BY line_id ORDER BY remainder DESC, household_id, link_id) AS position
    FROM link_floors
)
INSERT INTO settle_links (line_id, entry_id, account_id, link_id, amount_fen)
SELECT line_id, entry_id, account_id, link_id, base + CASE WHEN position <= left_over THEN 1 ELSE 0 END
FROM link_ranks
"""

# Every posting of the run, as rows (entry, account, side, amount, line, shipment, part, link); zero parts are
# left out. A line with no confirmed link gives its households' part to the cooperative.
_RUN_POSTINGS = """
SELECT t.entry_id, :orders_held AS account_id, 'debit' AS side, t.a AS amount_fen, t.line_id AS order_line_id,
       CAST(NULL AS INTEGER) AS shipment_id, CAST(NULL AS VARCHAR(12)) AS part, CAST(NULL AS INTEGER) AS link_id
FROM settle_lines t
UNION ALL
SELECT t.entry_id, :platform_fee, 'credit', t.fee, t.line_id, NULL, 'fee', NULL FROM settle_lines t WHERE t.fee > 0
UNION ALL
SELECT t.entry_id, ca.id, 'credit', t.cooperative + CASE WHEN k.line_id IS NULL THEN t.households ELSE 0 END,
       t.line_id, NULL, 'cooperative', NULL
FROM settle_lines t
JOIN ledger_accounts ca ON ca.kind = 'cooperative_payable' AND ca.cooperative_id = t.cooperative_id
LEFT JOIN (SELECT DISTINCT line_id FROM settle_links) AS k ON k.line_id = t.line_id
WHERE t.cooperative + CASE WHEN k.line_id IS NULL THEN t.households ELSE 0 END > 0
UNION ALL
SELECT r.entry_id, r.account_id, 'credit', r.amount_fen, r.line_id, NULL, 'household', r.link_id
FROM settle_links r WHERE r.amount_fen > 0
UNION ALL
SELECT e.id, :orders_held, 'debit', ss.amount_fen, NULL, ss.shipment_id, NULL, NULL
FROM shipment_settlements ss JOIN journal_entries e ON e.idempotency_key = 'settle_shipping:' || ss.shipment_id
WHERE ss.run_id = :run AND ss.amount_fen > 0
UNION ALL
SELECT e.id, ca.id, 'credit', ss.amount_fen, NULL, ss.shipment_id, 'cooperative', NULL
FROM shipment_settlements ss
JOIN shipments s ON s.id = ss.shipment_id
JOIN journal_entries e ON e.idempotency_key = 'settle_shipping:' || ss.shipment_id
JOIN ledger_accounts ca ON ca.kind = 'cooperative_payable' AND ca.cooperative_id = s.cooperative_id
WHERE ss.run_id = :run AND ss.amount_fen > 0
"""

# One statement for the whole run's postings: PostgreSQL's balance trigger checks every entry in it at once.
WRITE_POSTINGS = (
    "INSERT INTO postings (entry_id, account_id, side, amount_fen, order_line_id, shipment_id, part, link_id)"
    + _RUN_POSTINGS
)

# The cached balances move by the same rows, aggregated per account.
MOVE_BALANCES = """
UPDATE ledger_accounts SET balance_fen = ledger_accounts.balance_fen + moved.change
FROM (
    SELECT run.account_id,
           sum(CASE WHEN run.side = a.normal_side THEN run.amount_fen ELSE -run.amount_fen END) AS change
    FROM (RUN_POSTINGS) AS run JOIN ledger_accounts a ON a.id = run.account_id
    GROUP BY run.account_id
) AS moved
WHERE ledger_accounts.id = moved.account_id
""".replace("RUN_POSTINGS", _RUN_POSTINGS)

# A shipment whose fee and every line are settled leaves the partial index of open shipments; one with a line a
# refund holds back stays in it until that line is settled.
MARK_SHIPMENTS = """
UPDATE shipments SET settled_at = :now
WHERE settled_at IS NULL AND status = 'delivered' AND delivered_at <= :cutoff
  AND EXISTS (SELECT 1 FROM shipment_settlements ss WHERE ss.shipment_id = shipments.id)
  AND NOT EXISTS (
      SELECT 1 FROM order_lines l
      WHERE l.shipment_id = shipments.id
        AND NOT EXISTS (SELECT 1 FROM line_settlements ls WHERE ls.order_line_id = l.id))
"""

# PostgreSQL only: what a stage just wrote is not in the planner's statistics until analysed (autovacuum never
# runs inside the transaction); ANALYZE inside the transaction counts the transaction's own new rows.
ANALYZE_DUE = "ANALYZE settle_due_lines"
ANALYZE_CLAIMED = "ANALYZE line_settlements, shipment_settlements, journal_entries, ledger_accounts"
ANALYZE_LINES = "ANALYZE settle_lines"
ANALYZE_LINKS = "ANALYZE settle_links"
ANALYZE_SHIPMENTS = "ANALYZE shipments"  # the next run plans over the few shipments left open
