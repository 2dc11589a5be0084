"""The schema is made by the migrations only; they must agree with the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop.extensions import db
from shop.regions.models import Region


def test_models_and_migrations_agree(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"a migration is missing: {differences}"


def test_the_migration_loads_every_division(app_ctx):
    counts = dict(db.session.execute(sa.select(Region.level, sa.func.count()).group_by(Region.level)).all())
    assert counts["province"] == 31
    assert counts["prefecture"] > 330
    assert counts["county"] > 2900
    raoyang = db.session.get(Region, "131124")
    assert (raoyang.name, raoyang.level, raoyang.province_code) == ("饶阳县", "county", "130000")
    assert raoyang.full_name == "河北省衡水市饶阳县"
    assert db.session.get(Region, "419001").full_name == "河南省济源市"


def test_money_columns_are_64_bit(app_ctx):
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_fen"):
                assert isinstance(column.type, sa.BigInteger), f"{table.name}.{column.name} must be BigInteger"
