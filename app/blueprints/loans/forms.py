"""Forms of the loan screens (parsing only; the rules live in ``app.services.loans``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.models.loans import LOAN_DOC_TYPES
from app.web import select_choices


class ApplicationForm(FlaskForm):
    member_no = StringField("Member number", validators=[Length(max=20)])
    product_code = SelectField("Product", choices=[])
    amount = StringField("Amount (₹)")
    months = StringField("Tenure (months)")
    annual_rate = StringField("Rate % a year", validators=[Optional()], description="Blank: the product's rate")
    purpose = StringField("Purpose", validators=[Length(max=200)])
    guarantors = StringField("Guarantors", description="Member numbers, comma-separated")
    si_account = StringField("EMI from savings account (standing instruction)", validators=[Optional()])
    deposit_account = StringField("Deposit under lien", validators=[Optional()])
    lien_amount = StringField("Lien amount (₹)", validators=[Optional()])
    gold_items = TextAreaField("Gold items", description="One per line: description, gross g, net g, carat")
    gold_declared = BooleanField("Member declares ownership of the gold")
    security_details = StringField("Property / vehicle details", validators=[Optional(), Length(max=255)])
    security_value = StringField("Valuation (₹)", validators=[Optional()])


class RemarksForm(FlaskForm):
    remarks = StringField("Remarks", validators=[Length(max=255)])


class DisburseForm(FlaskForm):
    nonce = HiddenField()
    mode = SelectField(
        "Pay out",
        choices=select_choices(
            [
                ("transfer", "To the member's savings account"),
                ("cash", "Cash at the counter"),
                ("payout", "To a beneficiary (NEFT/IMPS)"),
            ]
        ),
    )
    to_account = StringField("Savings account")
    beneficiary_id = SelectField("Beneficiary", choices=[], validate_choice=False,
                                 description="The member's saved payees (a new one waits out its cooling period)")  # fmt: skip
    payout_mode = SelectField("Send by", choices=select_choices([("NEFT", "NEFT"), ("IMPS", "IMPS"), ("RTGS", "RTGS")]))
    amount = StringField("Amount to release (₹)", validators=[Optional()], description="Blank: all that is left")


class RepayForm(FlaskForm):
    nonce = HiddenField()
    amount = StringField("Amount (₹)")
    mode = SelectField(
        "Mode", choices=select_choices([("cash", "Cash (your drawer)"), ("transfer", "Transfer from savings")])
    )
    from_account = StringField("From savings account", validators=[Optional()])
    reduce = SelectField(
        "An excess prepays principal and reduces",
        choices=select_choices([("tenure", "the tenure"), ("emi", "the EMI")]),
    )


class ProductForm(FlaskForm):
    code = StringField("Code", validators=[Length(max=12)])
    name = StringField("Name", validators=[Length(max=120)])
    kind = SelectField("Kind", choices=[])
    interest_type = SelectField(
        "Interest", choices=select_choices([("reducing", "Reducing balance"), ("flat", "Flat")])
    )
    frequency = SelectField(
        "Instalments",
        choices=select_choices([("monthly", "Monthly"), ("quarterly", "Quarterly"), ("half_yearly", "Half-yearly")]),
    )
    rate = StringField("Standard rate %")
    min_rate = StringField("Lowest rate %")
    max_rate = StringField("Highest rate %")
    min_amount = StringField("Smallest loan (₹)")
    max_amount = StringField("Largest loan (₹)")
    min_months = StringField("Shortest tenure (months)")
    max_months = StringField("Longest tenure (months)")
    processing_fee = StringField("Processing fee %", default="0")
    gst = StringField("GST on the fee %", default="18")
    penal_mode = SelectField(
        "Penal charge",
        choices=select_choices(
            [("percent", "% a year on the overdue amount"), ("fixed", "Fixed per overdue instalment")]
        ),
    )
    penal_rate = StringField("Penal % a year", default="2")
    penal_fixed = StringField("Fixed penal charge (₹)", default="0")
    grace_days = StringField("Grace days", default="0")
    security_type = SelectField(
        "Security",
        choices=select_choices(
            [
                ("none", "None"),
                ("gold", "Gold"),
                ("deposit", "Deposit lien"),
                ("property", "Property"),
                ("vehicle", "Vehicle"),
            ]
        ),
    )
    max_ltv = StringField("Max LTV %", default="75")
    share_link = StringField("Share linkage %", default="5")
    manager_limit = StringField("Manager sanctions up to (₹)", default="500000")
    no_guarantor_upto = StringField("No guarantor up to (₹)", default="200000")
    tranches = BooleanField("Released in tranches (construction)")


class GoldRateForm(FlaskForm):
    rate = StringField("22 carat rate per gram (₹)")


class LoanDocumentForm(FlaskForm):
    doc_type = SelectField("Document", choices=select_choices(LOAN_DOC_TYPES.items()))
