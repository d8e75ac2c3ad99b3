from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.models.users import ROLES


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Email(check_deliverability=False), Length(max=255)])
    role = SelectField("Role", choices=list(ROLES))
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=256)])
