import marshmallow as ma
from marshmallow import validate


class RegionSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)
    province_code = ma.fields.String()


class RegionQuerySchema(ma.Schema):
    level = ma.fields.String(validate=validate.OneOf(["province", "prefecture", "county"]))
    parent = ma.fields.String(validate=validate.Regexp(r"^\d{6}$", error="A region code has six digits."))
    q = ma.fields.String(validate=validate.Length(max=30))
