from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from shop.catalog.models import UNITS, Category
from shop.catalog.services import MAX_MIN_ORDER_QUANTITY, MAX_STOCK
from shop.money import parse_yuan
from shop.web.forms import yuan_amount

CATEGORY_LABELS = {
    Category.FRUIT: _l("Fruit"),
    Category.VEGETABLES: _l("Vegetables"),
    Category.GRAIN_OIL: _l("Grain & oil"),
    Category.MEAT_EGGS: _l("Meat & eggs"),
    Category.TEA: _l("Tea"),
    Category.HERBS: _l("Herbs"),
    Category.CRAFTS: _l("Crafts"),
    Category.OTHER: _l("Other"),
}


class ProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    category = SelectField(
        _l("Category"), choices=[SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()]
    )
    origin_county_code = StringField(
        _l("Origin county code"), validators=[DataRequired(), Regexp(r"^\d{6}$", message=_l("Six digits."))]
    )
    unit = SelectField(_l("Unit"), choices=[SelectChoice(u, u) for u in UNITS])
    price_yuan = StringField(_l("Price (yuan)"), validators=[DataRequired(), yuan_amount])
    stock = IntegerField(_l("Stock"), default=0, validators=[NumberRange(min=0, max=MAX_STOCK)])
    min_order_quantity = IntegerField(
        _l("Minimum order quantity"), default=1, validators=[NumberRange(min=1, max=MAX_MIN_ORDER_QUANTITY)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    is_active = BooleanField(_l("On sale"), default=True)

    def product_data(self) -> dict:
        return {
            "name": self.name.data,
            "category": self.category.data,
            "origin_county_code": self.origin_county_code.data,
            "unit": self.unit.data,
            "price_fen": parse_yuan(self.price_yuan.data),
            "stock": self.stock.data,
            "min_order_quantity": self.min_order_quantity.data,
            "description": self.description.data or "",
            "is_active": bool(self.is_active.data),
        }


class NewProductForm(ProductForm):
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP)"))


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP)"), validators=[DataRequired()])
