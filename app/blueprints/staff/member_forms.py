"""Forms of the member screens: registration and edits, nominees, status, KYC uploads, shares."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.models.members import DOC_TYPES, GENDERS, MEMBER_STATUSES, MEMBER_TYPES, RISK_CATEGORIES
from app.services.members import kyc
from app.settings import setting
from app.web import select_choices

STATES = [
    "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chhattisgarh", "Goa", "Gujarat", "Haryana",
    "Himachal Pradesh", "Jharkhand", "Karnataka", "Kerala", "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya",
    "Mizoram", "Nagaland", "Odisha", "Punjab", "Rajasthan", "Sikkim", "Tamil Nadu", "Telangana", "Tripura",
    "Uttar Pradesh", "Uttarakhand", "West Bengal", "Andaman and Nicobar Islands", "Chandigarh",
    "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Jammu and Kashmir", "Ladakh", "Lakshadweep", "Puducherry",
]  # fmt: skip


def choices_of(values: tuple[str, ...] | list[str], blank: str | None = None) -> list[SelectChoice]:
    out = [(x, x.replace("_", " ").title()) for x in values]
    return select_choices([("", blank), *out] if blank is not None else out)


class NomineeForm(Form):
    name = StringField("Nominee name", validators=[Optional(), Length(max=120)])
    relationship = StringField("Relationship", validators=[Optional(), Length(max=40)])
    date_of_birth = StringField("Date of birth", render_kw={"type": "date"})
    share_percent = StringField("Share %", validators=[Optional(), Length(max=6)], render_kw={"inputmode": "decimal"})
    guardian_name = StringField("Guardian (if minor)", validators=[Optional(), Length(max=120)])


class MemberForm(FlaskForm):
    name = StringField("Full name", validators=[Length(max=120)], render_kw={"autocomplete": "off"})
    father_or_spouse_name = StringField("Father's / spouse's name", validators=[Length(max=120)])
    date_of_birth = StringField("Date of birth", render_kw={"type": "date"})
    gender = SelectField("Gender", choices=choices_of(GENDERS, "Choose…"))
    mobile = StringField("Mobile", validators=[Length(max=20)], render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField("E-mail", validators=[Length(max=255)], render_kw={"type": "email"})
    address_line = StringField("House, street / locality", validators=[Length(max=255)])
    village_town = StringField("Village / town", validators=[Length(max=120)])
    district = StringField("District", validators=[Length(max=120)])
    state = SelectField("State", choices=select_choices([("", "Choose…")] + [(s, s) for s in STATES]))
    pin = StringField("PIN code", validators=[Length(max=10)], render_kw={"inputmode": "numeric"})
    occupation = StringField("Occupation", validators=[Length(max=120)])
    member_type = SelectField("Member type", choices=choices_of(MEMBER_TYPES))
    kyc_risk = SelectField("KYC risk category", choices=choices_of(RISK_CATEGORIES))
    branch_id = SelectField("Branch", choices=[], validate_choice=False)
    aadhaar = StringField(
        "Aadhaar number", validators=[Length(max=20)], render_kw={"inputmode": "numeric", "autocomplete": "off"}
    )
    pan = StringField("PAN", validators=[Length(max=12)], render_kw={"autocomplete": "off"})
    # A declaration only: "Form 60 on file" is set when a reviewer verifies the Form 60 document.
    form60 = BooleanField("No PAN: the applicant will submit Form 60")
    guardian_name = StringField("Guardian's name (applicant who is a minor)", validators=[Length(max=120)])
    guardian_relation = StringField("Guardian's relationship", validators=[Length(max=40)])
    nominees = FieldList(FormField(NomineeForm), min_entries=2, max_entries=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guardian_name.label.text = f"Guardian's name (applicant under {int(setting('MEMBER_MIN_AGE'))})"

    def member_data(self) -> dict[str, Any]:
        """The form as the member service's input."""
        return {
            "name": self.name.data,
            "father_or_spouse_name": self.father_or_spouse_name.data,
            "date_of_birth": self.date_of_birth.data,
            "gender": self.gender.data,
            "mobile": self.mobile.data,
            "email": self.email.data,
            "address_line": self.address_line.data,
            "village_town": self.village_town.data,
            "district": self.district.data,
            "state": self.state.data,
            "pin": self.pin.data,
            "occupation": self.occupation.data,
            "member_type": self.member_type.data,
            "kyc_risk": self.kyc_risk.data,
            "aadhaar": self.aadhaar.data,
            "pan": self.pan.data,
            "form60": bool(self.form60.data),
            "guardian_name": self.guardian_name.data,
            "guardian_relation": self.guardian_relation.data,
            "nominees": [dict(entry.data) for entry in self.nominees],
        }


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=choices_of(MEMBER_STATUSES, "Choose…"))
    effective_on = StringField("Effective from", render_kw={"type": "date"})
    reason = StringField("Reason", validators=[Length(max=255)])


class UploadForm(FlaskForm):
    doc_type = SelectField("Document", choices=select_choices((d, kyc.DOC_LABELS[d]) for d in DOC_TYPES))


class SharesForm(FlaskForm):
    shares = StringField("Number of shares", render_kw={"inputmode": "numeric"})
    mode = SelectField(
        "Paid by", choices=select_choices([("cash", "Cash"), ("transfer", "From the member's savings account")])
    )
    from_account = SelectField("Savings account", choices=[], validate_choice=False)


class BuySharesForm(SharesForm):
    # One token per rendered form, used as the posting's idempotency key: a double submit posts once.
    nonce = HiddenField(validators=[DataRequired(), Length(max=40)])


class RefundForm(FlaskForm):
    shares = StringField("Shares to refund", render_kw={"inputmode": "numeric"})
    mode = SelectField(
        "Pay out by", choices=select_choices([("cash", "Cash"), ("transfer", "Credit to a savings account")])
    )
    to_account = StringField("Savings account number")
    reason = TextAreaField("Reason", validators=[Length(max=200)])
    close_membership = BooleanField("Close the membership (refund all shares; the member becomes resigned)")


class TransferForm(FlaskForm):
    to_member_no = StringField("Transfer to member no.")
    shares = StringField("Shares to transfer", render_kw={"inputmode": "numeric"})
    reason = TextAreaField("Reason", validators=[Length(max=200)])
    close_membership = BooleanField("Close the transferor's membership (all shares go; becomes resigned)")
