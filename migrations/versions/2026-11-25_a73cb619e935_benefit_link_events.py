"""benefit link events: who proposed, confirmed, rejected and ended each link, kept for good

Revision ID: a73cb619e935
Revises: ca125fcdd331
Create Date: 2026-11-25 02:53:38.219637

"""
from alembic import op
import sqlalchemy as sa
import shop.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'a73cb619e935'
down_revision = 'ca125fcdd331'
branch_labels = None
depends_on = None


# Append-only like the ledger and certification events: PostgreSQL reuses the ledger's refusing function.
MIGRATION_NOTE = "recorded by the migration: the link ended before its events were kept"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"

    op.create_table('benefit_link_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=False),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', shop.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("from_status = '' OR from_status IN ('proposed', 'confirmed', 'rejected', 'ended')", name=op.f('ck_benefit_link_events_from_status_known')),
    sa.CheckConstraint("to_status IN ('proposed', 'confirmed', 'rejected', 'ended')", name=op.f('ck_benefit_link_events_to_status_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_benefit_link_events_actor_id_users')),
    sa.ForeignKeyConstraint(['link_id'], ['benefit_links.id'], name=op.f('fk_benefit_link_events_link_id_benefit_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_link_events'))
    )
    with op.batch_alter_table('benefit_link_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_link_events_link_id'), ['link_id'], unique=False)

    # What the links themselves still say: the proposal, the decision (confirm or reject) and, for an ended
    # link, that it ended (when and by whom was not kept before; the note says so).
    op.execute(
        "INSERT INTO benefit_link_events (link_id, from_status, to_status, actor_id, actor_role, note, at) "
        "SELECT id, '', 'proposed', proposed_by_id, '', note, proposed_at FROM benefit_links"
    )
    op.execute(
        "INSERT INTO benefit_link_events (link_id, from_status, to_status, actor_id, actor_role, note, at) "
        "SELECT id, 'proposed', CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'confirmed' END, decided_by_id, "
        "'', decision_note, decided_at FROM benefit_links WHERE decided_at IS NOT NULL"
    )
    op.execute(
        "INSERT INTO benefit_link_events (link_id, from_status, to_status, actor_id, actor_role, note, at) "
        "SELECT id, CASE WHEN decided_at IS NULL THEN 'proposed' ELSE 'confirmed' END, 'ended', NULL, '', "
        f"'{MIGRATION_NOTE}', CURRENT_TIMESTAMP FROM benefit_links WHERE status = 'ended'"
    )
    if postgres:
        op.execute(
            "CREATE TRIGGER benefit_link_events_append_only BEFORE UPDATE OR DELETE ON benefit_link_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER benefit_link_events_no_{operation.lower()} BEFORE {operation} ON benefit_link_events "
                f"BEGIN SELECT RAISE(ABORT, 'benefit_link_events is append-only: {operation} refused'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS benefit_link_events_append_only ON benefit_link_events")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS benefit_link_events_no_{operation}")
    with op.batch_alter_table('benefit_link_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_link_events_link_id'))

    op.drop_table('benefit_link_events')
