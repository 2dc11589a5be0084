"""shipments settled_at; posting references checked by a statement-level trigger instead of foreign keys

Revision ID: ca125fcdd331
Revises: 9abdff8e7dc6
Create Date: 2026-11-25 01:53:52.746222

"""
from alembic import op
import sqlalchemy as sa
import shop.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'ca125fcdd331'
down_revision = '9abdff8e7dc6'
branch_labels = None
depends_on = None

# What a posting refers to, and where that row lives.
REFERENCES = (
    ("entry_id", "journal_entries", "fk_postings_entry_id_journal_entries"),
    ("account_id", "ledger_accounts", "fk_postings_account_id_ledger_accounts"),
    ("order_line_id", "order_lines", "fk_postings_order_line_id_order_lines"),
    ("shipment_id", "shipments", "fk_postings_shipment_id_shipments"),
    ("link_id", "benefit_links", "fk_postings_link_id_benefit_links"),
)
# Rows the ledger refers to are kept for good (journal_entries already refuse DELETE as append-only).
KEPT_TABLES = ("ledger_accounts", "order_lines", "shipments", "benefit_links")

# PostgreSQL checks a foreign key row by row: for 13 million postings of a million-line settlement run, five
# index lookups and key-share row locks per posting were most of the run (bench/settlement.py). This trigger
# checks every posting of the statement at once, one anti-join per reference, like postings_balance does for
# the balance. The error code is the one a foreign key raises, so callers see the same IntegrityError.
REFERENCES_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_dangling_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT what INTO missing FROM (
        SELECT 'journal_entries ' || p.entry_id AS what FROM inserted_postings p
        WHERE NOT EXISTS (SELECT 1 FROM journal_entries t WHERE t.id = p.entry_id)
        UNION ALL
        SELECT 'ledger_accounts ' || p.account_id FROM inserted_postings p
        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts t WHERE t.id = p.account_id)
        UNION ALL
        SELECT 'order_lines ' || p.order_line_id FROM inserted_postings p
        WHERE p.order_line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM order_lines t WHERE t.id = p.order_line_id)
        UNION ALL
        SELECT 'shipments ' || p.shipment_id FROM inserted_postings p
        WHERE p.shipment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM shipments t WHERE t.id = p.shipment_id)
        UNION ALL
        SELECT 'benefit_links ' || p.link_id FROM inserted_postings p
        WHERE p.link_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM benefit_links t WHERE t.id = p.link_id)
    ) AS dangling LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a posting refers to % which does not exist', missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$
"""
KEPT_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_deleting_ledger_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are referred to by the ledger and kept: DELETE refused', TG_TABLE_NAME;
END $$
"""
SQLITE_REFERENCES_TRIGGER = (
    "CREATE TRIGGER postings_refer_to_existing_rows BEFORE INSERT ON postings WHEN "
    + " OR ".join(
        ("" if column in ("entry_id", "account_id") else f"(NEW.{column} IS NOT NULL AND ")
        + f"NOT EXISTS (SELECT 1 FROM {table} WHERE id = NEW.{column})"
        + ("" if column in ("entry_id", "account_id") else ")")
        for column, table, _name in REFERENCES
    )
    + " BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a posting refers to a row which does not exist'); END"
)


def _sqlite_append_only_triggers():
    # Recreating postings without its foreign keys (SQLite cannot drop one in place) drops its triggers too.
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS postings_no_{operation.lower()} BEFORE {operation} ON postings "
            f"BEGIN SELECT RAISE(ABORT, 'postings is append-only: {operation} refused'); END"
        )


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('postings', schema=None) as batch_op:
        for _column, _table, name in REFERENCES:
            batch_op.drop_constraint(name, type_='foreignkey')

    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', shop.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_shipments_unsettled', ['delivered_at'], unique=False, postgresql_where=sa.text('settled_at IS NULL'), sqlite_where=sa.text('settled_at IS NULL'))
    # Settled in full: the fee and every line (the time is that of the last of them).
    op.execute(
        "UPDATE shipments SET settled_at = (SELECT max(t.settled_at) FROM ("
        " SELECT ss.settled_at FROM shipment_settlements ss WHERE ss.shipment_id = shipments.id"
        " UNION ALL SELECT ls.settled_at FROM line_settlements ls JOIN order_lines l ON l.id = ls.order_line_id"
        " WHERE l.shipment_id = shipments.id) AS t) "
        "WHERE EXISTS (SELECT 1 FROM shipment_settlements ss WHERE ss.shipment_id = shipments.id) "
        "AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.shipment_id = shipments.id "
        "AND NOT EXISTS (SELECT 1 FROM line_settlements ls WHERE ls.order_line_id = l.id))"
    )

    if postgres:
        op.execute(REFERENCES_FUNCTION)
        op.execute(
            "CREATE TRIGGER postings_refer_to_existing_rows AFTER INSERT ON postings "
            "REFERENCING NEW TABLE AS inserted_postings "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_dangling_postings()"
        )
        op.execute(KEPT_FUNCTION)
        for table in KEPT_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_deleting_ledger_references()"
            )
    else:
        _sqlite_append_only_triggers()
        op.execute(SQLITE_REFERENCES_TRIGGER)
        for table in KEPT_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, "
                f"'{table} rows are referred to by the ledger and kept: DELETE refused'); END"
            )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in KEPT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_kept" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS postings_refer_to_existing_rows ON postings")
        op.execute("DROP FUNCTION IF EXISTS refuse_dangling_postings()")
        op.execute("DROP FUNCTION IF EXISTS refuse_deleting_ledger_references()")
    else:
        op.execute("DROP TRIGGER IF EXISTS postings_refer_to_existing_rows")

    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_unsettled', postgresql_where=sa.text('settled_at IS NULL'), sqlite_where=sa.text('settled_at IS NULL'))
        batch_op.drop_column('settled_at')

    with op.batch_alter_table('postings', schema=None) as batch_op:
        for column, table, name in REFERENCES:
            batch_op.create_foreign_key(name, table, [column], ['id'])
    if not postgres:
        _sqlite_append_only_triggers()
