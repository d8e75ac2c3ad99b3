"""Portal forms (labels translated lazily, so each request shows the member's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    mobile = StringField(
        _l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number.")), Length(max=20)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("6-digit code"), validators=[DataRequired(_l("Enter the code we sent by SMS.")), Length(max=12)]
    )


class IdentifyForm(FlaskForm):
    """Activation and forgot-password, step 1: mobile and date of birth."""

    mobile = StringField(
        _l("Registered mobile number"), validators=[DataRequired(_l("Enter your mobile number.")), Length(max=20)]
    )
    date_of_birth = DateField(_l("Date of birth"), validators=[DataRequired(_l("Enter your date of birth."))])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(max=256)])
    confirm = PasswordField(
        _l("New password again"), validators=[DataRequired(_l("Type the password again.")), Length(max=256)]
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


class TransferForm(FlaskForm):
    from_account = SelectField(_l("From"), validators=[DataRequired()], validate_choice=False)  # scoped in the view
    to_account = StringField(_l("To account number"), validators=[DataRequired(_l("Enter the account number to pay."))])
    amount = StringField(_l("Amount (₹)"), validators=[DataRequired(_l("Enter the amount."))])
    narration = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=80)])


class StatementForm(FlaskForm):
    account = SelectField(_l("Account"), validators=[DataRequired()], validate_choice=False)  # scoped in the view
    start = DateField(_l("From"), validators=[DataRequired(_l("Choose the first day."))])
    end = DateField(_l("To"), validators=[DataRequired(_l("Choose the last day."))])


class ContactForm(FlaskForm):
    mobile = StringField(_l("New mobile number"), validators=[Optional(), Length(max=20)])
    email = StringField(_l("New e-mail address"), validators=[Optional(), Length(max=255)])


class NomineeRequestForm(FlaskForm):
    details = TextAreaField(
        _l("What should change? (name, relationship, share)"),
        validators=[DataRequired(_l("Describe the change.")), Length(min=5, max=500)],
    )


class LoanApplyForm(FlaskForm):
    product = SelectField(_l("Loan type"), validators=[DataRequired()])
    amount = StringField(_l("Amount (₹)"), validators=[DataRequired(_l("Enter the amount."))])
    months = StringField(_l("Months"), validators=[DataRequired(_l("Enter the number of months.")), Length(max=3)])
    purpose = StringField(_l("Purpose"), validators=[Optional(), Length(max=200)])
