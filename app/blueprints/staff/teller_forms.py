"""Forms for the counter, drawer and transfer screens (amounts are parsed by app.money)."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.web import select_choices


def new_nonce() -> str:
    """A one-time token per rendered form: a double submit posts once."""
    return uuid.uuid4().hex


class CounterForm(FlaskForm):
    account_no = StringField("Account number", validators=[DataRequired(), Length(max=20)])
    txn = RadioField(
        "Transaction",
        choices=select_choices([("deposit", "Cash deposit"), ("withdrawal", "Cash withdrawal")]),
        default="deposit",
        validators=[DataRequired()],
    )
    amount = StringField("Amount (₹)", validators=[DataRequired(), Length(max=20)])
    narration = StringField("Narration", validators=[Optional(), Length(max=120)])
    form60_ref = StringField("Form 60 reference", validators=[Optional(), Length(max=40)])
    nonce = HiddenField(validators=[DataRequired(), Length(max=40)])


class OpenDrawerForm(FlaskForm):
    opening_float = StringField("Opening float from the vault (₹)", default="0", validators=[Length(max=20)])


class VaultForm(FlaskForm):
    direction = SelectField(
        "Move cash",
        choices=select_choices([("to_vault", "Drawer → vault"), ("from_vault", "Vault → drawer")]),
        default="to_vault",
    )
    amount = StringField("Amount (₹)", validators=[DataRequired(), Length(max=20)])


class TransferForm(FlaskForm):
    from_account = StringField("From account", validators=[DataRequired(), Length(max=20)])
    to_account = StringField("To account", validators=[DataRequired(), Length(max=20)])
    amount = StringField("Amount (₹)", validators=[DataRequired(), Length(max=20)])
    narration = StringField("Narration", validators=[Optional(), Length(max=120)])
    nonce = HiddenField(validators=[DataRequired(), Length(max=40)])
