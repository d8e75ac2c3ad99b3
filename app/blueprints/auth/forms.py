"""Forms of the staff sign-in pages."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

CODE_RENDER = {"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    """A 6-digit TOTP code or a recovery code (XXXX-XXXX-XXXX-XXXX)."""

    code = StringField("Code", validators=[DataRequired(), Length(min=6, max=32)], render_kw=CODE_RENDER)


class EnrolForm(FlaskForm):
    """The new authenticator's code, and (when replacing one) a code proving the current factor."""

    code = StringField(
        "Code from the app",
        validators=[DataRequired(), Length(min=6, max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    current_code = StringField(
        "Current code or recovery code",
        validators=[Optional(), Length(min=6, max=32)],
        render_kw=CODE_RENDER,
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Repeat new password", validators=[DataRequired()])

    def validate_confirm(self, field):
        from wtforms import ValidationError

        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords differ.")
