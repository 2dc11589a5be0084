from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db

LEVELS = ("province", "prefecture", "county")


class Region(db.Model):
    """One administrative division. Loaded by a migration from shop/regions/data/regions.csv."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'prefecture', 'county')", name="level_known"),
        CheckConstraint("length(code) = 6", name="code_six_digits"),
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    # A county's first two digits are its province: kept as a column so filters need no string functions.
    province_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # One of the 832 former national poverty counties (shop/regions/data/counties_832.csv; an operator may correct
    # it): a product counts toward a unit's reserved share when its cooperative is in such a county.
    is_832_county: Mapped[bool] = mapped_column(default=False, server_default="0")

    parent: Mapped[Region | None] = relationship(remote_side=[code], foreign_keys=[parent_code])
    province: Mapped[Region] = relationship(remote_side=[code], foreign_keys=[province_code])

    @property
    def full_name(self) -> str:
        """Province + prefecture + county, leaving out placeholder prefectures such as 市辖区."""
        parts = []
        if self.level != "province":
            parts.append(self.province.name)
        parent = self.parent
        is_placeholder = parent is None or parent.name in ("市辖区", "县") or "直辖" in parent.name
        if self.level == "county" and not is_placeholder:
            parts.append(parent.name)
        parts.append(self.name)
        return "".join(parts)
