import marshmallow as ma
from marshmallow import validate

from shop.accounts.roles import Role
from shop.web.inputs import RowId


class TokenRequestSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=128))
    name = ma.fields.String(load_default="API", validate=validate.Length(max=80))


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "First characters of the token, to recognise it"})
    created_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(metadata={"description": "The secret; shown once, never again"})


class UserRoleSchema(ma.Schema):
    id = ma.fields.Integer()
    role = ma.fields.String()
    cooperative_id = ma.fields.Integer(allow_none=True)
    organization_id = ma.fields.Integer(allow_none=True)
    region_code = ma.fields.String(allow_none=True)
    granted_at = ma.fields.AwareDateTime()


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    display_name = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    roles = ma.fields.List(ma.fields.Nested(UserRoleSchema))


class UserQuerySchema(ma.Schema):
    q = ma.fields.String(load_default="", validate=validate.Length(max=100))


class RoleGrantSchema(ma.Schema):
    role = ma.fields.Enum(Role, by_value=True, required=True)
    cooperative_id = RowId(allow_none=True, load_default=None)
    organization_id = RowId(allow_none=True, load_default=None)
    region_code = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=6))
    reason = ma.fields.String(load_default="", validate=validate.Length(max=200))


class RoleRevokeSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=validate.Length(max=200))
