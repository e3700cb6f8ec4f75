from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from piranha_web.models import ROLES
from piranha_web.users_service import UserError, check_password, check_username

ROLE_HELP = "admin: edit, apply, manage users · operator: runtime actions · viewer: read only"


def _service_check(check):
    def validator(form, field):
        try:
            check(field.data or "")
        except UserError as error:
            raise ValidationError(str(error)) from None
    return validator


class NewUserForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), _service_check(check_username)],
                           render_kw={"autocomplete": "off"})
    role = SelectField("Role", choices=[SelectChoice(r) for r in ROLES], default="viewer", description=ROLE_HELP)
    password = PasswordField("Password", validators=[DataRequired(), _service_check(check_password)],
                             render_kw={"autocomplete": "new-password"}, description="At least 10 characters.")
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r) for r in ROLES])


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), _service_check(check_password)],
                             render_kw={"autocomplete": "new-password"}, description="At least 10 characters.")
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
