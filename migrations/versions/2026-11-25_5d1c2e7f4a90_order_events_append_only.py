"""order events append-only, as the other histories

Revision ID: 5d1c2e7f4a90
Revises: a73cb619e935
Create Date: 2026-11-25 03:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1c2e7f4a90'
down_revision = 'a73cb619e935'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER order_events_no_{operation.lower()} BEFORE {operation} ON order_events "
                f"BEGIN SELECT RAISE(ABORT, 'order_events is append-only: {operation} refused'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS order_events_append_only ON order_events")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS order_events_no_{operation}")
