"""users.session_token: what session cookies name a user by, replaced on sign-out

Revision ID: 695ff3294a9d
Revises: 5d1c2e7f4a90
Create Date: 2026-12-05 08:40:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '695ff3294a9d'
down_revision = '5d1c2e7f4a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))

    # Every existing user gets a token of their own (cookies issued before name users by id, so they end here).
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(users.c.id)).scalars().all()
    if ids:
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(session_token=sa.bindparam('token')),
            [{'user_id': user_id, 'token': secrets.token_urlsafe(32)} for user_id in ids],
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_session_token'), ['session_token'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_session_token'), type_='unique')
        batch_op.drop_column('session_token')
