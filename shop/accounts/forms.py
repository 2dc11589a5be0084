from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from shop.accounts.roles import Role


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    password_again = PasswordField(
        _l("Password again"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token: for buttons that change something."""


ROLE_LABELS = {
    Role.CONSUMER: _l("Consumer"),
    Role.COOPERATIVE_STAFF: _l("Cooperative staff"),
    Role.ORG_ADMIN: _l("Organization admin"),
    Role.ORG_PURCHASER: _l("Organization purchaser"),
    Role.ORG_APPROVER: _l("Organization approver"),
    Role.COUNTY_REVIEWER: _l("County reviewer"),
    Role.PROVINCE_REVIEWER: _l("Province reviewer"),
    Role.OPERATOR: _l("Platform operator"),
}


class RoleGrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role])
    cooperative_id = IntegerField(_l("Cooperative (for cooperative staff)"), validators=[Optional()])
    region_code = StringField(_l("Region code (for reviewers)"), validators=[Optional(), Length(max=6)])
    organization_id = IntegerField(_l("Organization id (for organization roles)"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
