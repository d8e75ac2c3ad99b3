"""Forms of the deposit screens: opening, status, closure, products, rate cards, Form 15G/15H."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.models.deposits import FD_PAYOUTS
from app.services import deposits
from app.settings import setting
from app.web import select_choices

KIND_CHOICES = [("savings", "Savings (SB)"), ("fd", "Fixed deposit"), ("rd", "Recurring deposit")]
PAYOUT_CHOICES = [(p, deposits.fixed.PAYOUT_LABELS[p].capitalize()) for p in FD_PAYOUTS]
ACTION_CHOICES = [("credit_sb", "Credit to savings account"), ("auto_renew", "Renew automatically")]
STATUS_CHOICES = [
    ("", "Any status"),
    ("active", "Active"),
    ("dormant", "Dormant"),
    ("frozen", "Frozen"),
    ("closed", "Closed"),
]


class OpenForm(FlaskForm):
    member_no = StringField("Member number", validators=[Length(max=20)], render_kw={"autocomplete": "off"})
    kind = SelectField("Account type", choices=select_choices(KIND_CHOICES), default="savings")
    product_code = SelectField("Product", choices=[], validate_choice=False)
    amount = StringField("Amount (₹)", render_kw={"inputmode": "decimal"})
    months = StringField("Months", render_kw={"inputmode": "numeric"})
    days = StringField("Days", render_kw={"inputmode": "numeric"})
    installment = StringField("Monthly instalment (₹)", render_kw={"inputmode": "decimal"})
    payout = SelectField("Interest payout", choices=select_choices(PAYOUT_CHOICES), default="cumulative")
    maturity_action = SelectField("At maturity", choices=select_choices(ACTION_CHOICES), default="credit_sb")
    funding_mode = SelectField(
        "Funded by", choices=select_choices([("cash", "Cash"), ("transfer", "Transfer from savings")]), default="cash"
    )
    from_account = StringField("From savings account", validators=[Length(max=20)])
    payout_account = StringField("Payout / maturity savings account", validators=[Length(max=20)])
    si_account = StringField("Standing instruction from savings account", validators=[Length(max=20)])
    joint_holders = StringField("Joint holders (member numbers, comma-separated)", validators=[Length(max=100)])
    nominee_id = SelectField("Nominee", choices=select_choices([("", "None")]), validate_choice=False)
    form60_ref = StringField(
        "Form 60 reference (cash of ₹50,000+ without PAN)", validators=[Optional(), Length(max=40)]
    )
    nonce = HiddenField(validators=[DataRequired(message="The form expired; open it again."), Length(max=40)])


class StatusForm(FlaskForm):
    action = SelectField(
        "Action", choices=select_choices([("freeze", "Freeze"), ("unfreeze", "Unfreeze")]), default="freeze"
    )
    reason = StringField("Reason", validators=[Length(max=200)])


class CloseForm(FlaskForm):
    mode = SelectField(
        "Pay out", choices=select_choices([("transfer", "To savings account"), ("cash", "In cash")]), default="transfer"
    )
    to_account = StringField("Savings account", validators=[Length(max=20)])
    beneficiary_id = SelectField("Beneficiary (FD: pay to a beneficiary)", choices=[], validate_choice=False)
    payout_mode = SelectField("Send by", choices=select_choices([("NEFT", "NEFT"), ("IMPS", "IMPS"), ("RTGS", "RTGS")]))
    form60_ref = StringField(
        "Form 60 reference (cash of ₹50,000+ without PAN)", validators=[Optional(), Length(max=40)]
    )
    reason = StringField("Reason", validators=[Length(max=200)])
    confirm = BooleanField("I have checked the figures with the member")


class ProductForm(FlaskForm):
    code = StringField("Code", validators=[Length(max=12)])
    prefix = StringField("Account prefix (2–4 letters)", validators=[Length(max=4)])
    name = StringField("Name", validators=[Length(max=120)])
    kind = SelectField("Type", choices=select_choices(KIND_CHOICES), default="savings")
    description = StringField("Description", validators=[Optional(), Length(max=255)])
    is_default = BooleanField("Default product of its type")
    # savings
    min_balance = StringField("Minimum balance (₹)")
    min_balance_charge = StringField("Charge when the average balance is below it (₹ per period)")
    min_opening = StringField("Minimum opening deposit (₹)")
    interest_frequency = SelectField(
        "Interest credited",
        choices=select_choices([("quarterly", "Quarterly"), ("half_yearly", "Half-yearly")]),
        default="quarterly",
    )
    interest_free = BooleanField("Interest-free")
    # fd
    min_amount = StringField("Minimum deposit (₹)")
    max_amount = StringField("Maximum deposit (₹, blank = none)")
    min_days = StringField("Shortest tenure (days)")
    max_days = StringField("Longest tenure (days)")
    payouts = SelectMultipleField("Payout options", choices=select_choices(PAYOUT_CHOICES))
    maturity_actions = SelectMultipleField("Maturity actions", choices=select_choices(ACTION_CHOICES))
    premature_penalty = StringField("Premature closure penalty (% p.a.)")
    # rd
    min_installment = StringField("Minimum instalment (₹)")
    installment_multiple = StringField("Instalment in multiples of (₹)")
    min_months = StringField("Shortest tenure (months)")
    max_months = StringField("Longest tenure (months)")
    missed_fee = StringField("Fee per late instalment (₹)")
    grace_days = StringField("Grace days after the due date")
    # rate card
    rates = TextAreaField("Rate card", render_kw={"rows": 6})
    effective_from = StringField("Rates effective from", render_kw={"type": "date"})


class RatesForm(FlaskForm):
    rates = TextAreaField("New rate card", render_kw={"rows": 6})
    effective_from = StringField("Effective from", render_kw={"type": "date"})


class TdsFormForm(FlaskForm):
    member_no = StringField("Member number", validators=[Length(max=20)])
    fy = StringField("Financial year", validators=[Length(max=7)], render_kw={"placeholder": "2026-27"})
    form = SelectField("Form", choices=[], default="15G")
    received_on = StringField("Received on", render_kw={"type": "date"})
    reference = StringField("UIN / reference", validators=[Optional(), Length(max=40)])
    estimated_income = StringField("Estimated income declared (₹)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        age = int(setting("SENIOR_CITIZEN_AGE"))
        self.form.choices = select_choices([("15G", f"Form 15G (below {age})"), ("15H", f"Form 15H ({age} and above)")])
