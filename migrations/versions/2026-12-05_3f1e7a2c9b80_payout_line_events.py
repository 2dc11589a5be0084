"""payout line events: who recorded each bank answer (paid, failed), when and why, kept for good; the household
share checks the models declare on cooperatives and products, which the migration that added the columns left out

Revision ID: 3f1e7a2c9b80
Revises: 695ff3294a9d
Create Date: 2026-12-05 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
import shop.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '3f1e7a2c9b80'
down_revision = '695ff3294a9d'
branch_labels = None
depends_on = None


# Append-only like the ledger and the other event tables: PostgreSQL reuses refuse_append_only_change().
STATUSES = "('in_transit', 'paid', 'failed')"

# The models declare these CHECKs (BASIS_POINTS of shop/settlement/rules.py, written as a literal here); the
# migration that added the columns did not create them. PostgreSQL gets the constraints; SQLite cannot add a
# CHECK to a table without rebuilding it (which would drop its catalogue triggers), so triggers refuse the same
# rows there.
SHARE_CHECKS = {
    "cooperatives": "household_share_bp BETWEEN 0 AND 10000",
    "products": "household_share_bp IS NULL OR household_share_bp BETWEEN 0 AND 10000",
}


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"

    op.create_table('payout_line_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=False),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', shop.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"from_status IN {STATUSES}", name=op.f('ck_payout_line_events_from_status_known')),
    sa.CheckConstraint(f"to_status IN {STATUSES}", name=op.f('ck_payout_line_events_to_status_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_payout_line_events_actor_id_users')),
    sa.ForeignKeyConstraint(['line_id'], ['payout_lines.id'], name=op.f('fk_payout_line_events_line_id_payout_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_line_events'))
    )
    with op.batch_alter_table('payout_line_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_line_events_line_id'), ['line_id'], unique=False)

    # Lines decided before events were kept: what the line itself still says (to which status, the note, when);
    # who recorded it was not kept (actor and capacity stay empty).
    op.execute(
        "INSERT INTO payout_line_events (line_id, from_status, to_status, actor_id, actor_role, note, at) "
        "SELECT id, 'in_transit', status, NULL, '', note, COALESCE(decided_at, CURRENT_TIMESTAMP) FROM payout_lines "
        "WHERE status <> 'in_transit' ORDER BY id"
    )
    for table, condition in SHARE_CHECKS.items():
        name = f"ck_{table}_household_share_in_range"
        if postgres:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")
        else:
            for operation in ("INSERT", "UPDATE"):
                op.execute(
                    f"CREATE TRIGGER {name}_{operation.lower()} BEFORE {operation} ON {table} "
                    f"WHEN NOT ({condition.replace('household_share_bp', 'NEW.household_share_bp')}) "
                    f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                )

    if postgres:
        op.execute(
            "CREATE TRIGGER payout_line_events_append_only BEFORE UPDATE OR DELETE ON payout_line_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER payout_line_events_no_{operation.lower()} BEFORE {operation} ON payout_line_events "
                f"BEGIN SELECT RAISE(ABORT, 'payout_line_events is append-only: {operation} refused'); END"
            )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in SHARE_CHECKS:
        name = f"ck_{table}_household_share_in_range"
        if postgres:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        else:
            for operation in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{operation}")
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS payout_line_events_append_only ON payout_line_events")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS payout_line_events_no_{operation}")
    with op.batch_alter_table('payout_line_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_line_events_line_id'))

    op.drop_table('payout_line_events')
