from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.regions.models import Region
from shop.types import UTCDateTime, sql_in, utcnow


class Category(StrEnum):
    FRUIT = "fruit"
    VEGETABLES = "vegetables"
    GRAIN_OIL = "grain_oil"
    MEAT_EGGS = "meat_eggs"
    TEA = "tea"
    HERBS = "herbs"
    CRAFTS = "crafts"
    OTHER = "other"


# Units as sellers in the counties write them.
UNITS = ("斤", "kg", "g", "箱", "袋", "瓶", "盒", "罐", "只", "个", "份", "提", "桶", "包")


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("min_order_quantity >= 1", name="min_order_quantity_positive"),
        CheckConstraint(sql_in("category", Category), name="category_known"),
        CheckConstraint(
            "household_share_bp IS NULL OR household_share_bp BETWEEN 0 AND 10000", name="household_share_in_range"
        ),
        # The catalogue's default order; the listing query walks it.
        Index("ix_products_active_created", "is_active", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(16), index=True)
    origin_county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    unit: Mapped[str] = mapped_column(String(8))
    price_fen: Mapped[int] = mapped_column(BigInteger, index=True)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    min_order_quantity: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    # Overrides the cooperative's household share for this product (NULL: the cooperative's).
    household_share_bp: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cooperative: Mapped[Cooperative] = relationship()
    origin_county: Mapped[Region] = relationship()
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", order_by="ProductPhoto.position, ProductPhoto.id", cascade="all, delete-orphan"
    )


class ProductPhoto(db.Model):
    __tablename__ = "product_photos"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    # A random name under UPLOAD_DIR/products/: never the uploader's file name.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="photos")
