"""The default chart of accounts for a co-operative credit society, and its well-known codes.

Services refer to GL accounts by these constants, never by literal codes.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import NORMAL_SIDE, GLAccount

# Well-known codes used by the services.
VAULT_CASH = "1101"
TELLER_CASH = "1102"
BANK_DCCB = "1201"
BANK_CURRENT = "1202"
UPI_SETTLEMENT = "1210"
NEFT_IMPS_SETTLEMENT = "1211"
RAZORPAY_SETTLEMENT = "1212"
RAZORPAY_CLEARING = RAZORPAY_SETTLEMENT  # collections wait here until the gateway settles to the bank
RAZORPAYX_BALANCE = "1213"  # the RazorpayX current account payouts are paid from (decision 0050)
GST_INPUT = "1604"
LOANS_PERSONAL = "1301"
LOANS_GOLD = "1302"
LOANS_AGRI = "1303"
LOANS_HOUSING = "1304"
LOANS_AGAINST_DEPOSIT = "1305"
LOANS_VEHICLE = "1306"
LOANS_BUSINESS = "1307"
INTEREST_RECEIVABLE_LOANS = "1401"
PENAL_RECEIVABLE = "1402"
TDS_RECEIVABLE = "1603"
SB_DEPOSITS = "2101"
FD_DEPOSITS = "2102"
RD_DEPOSITS = "2103"
CURRENT_DEPOSITS = "2104"
INTEREST_PAYABLE_FD = "2201"
INTEREST_PAYABLE_RD = "2202"
TDS_PAYABLE = "2301"
GST_PAYABLE = "2302"
SUSPENSE = "2401"
CASH_OVER_SHORT = "2402"
SUNDRY_PAYABLE = "2403"
DIVIDEND_PAYABLE = "2404"
PAYOUTS_IN_TRANSIT = "2405"
NPA_PROVISION = "2501"
STANDARD_ASSET_PROVISION = "2502"
INTEREST_SUSPENSE = "2601"
SHARE_CAPITAL = "3100"
STATUTORY_RESERVE = "3200"
BUILDING_FUND = "3301"
DIVIDEND_EQUALISATION_FUND = "3302"
EDUCATION_FUND = "3303"
BORROWINGS_DCCB = "2701"
PL_APPROPRIATION = "3401"
INCOME_LOAN_INTEREST = "4101"
INCOME_PENAL = "4102"
INCOME_PROCESSING_FEE = "4103"
INCOME_MEMBERSHIP_FEE = "4104"
INCOME_SERVICE_CHARGES = "4105"
INCOME_INVESTMENTS = "4106"
INCOME_MISC = "4107"
INCOME_BAD_DEBTS_RECOVERED = "4108"
EXP_SB_INTEREST = "5101"
EXP_FD_INTEREST = "5102"
EXP_RD_INTEREST = "5103"
EXP_NPA_PROVISION = "5301"
EXP_STD_PROVISION = "5302"
EXP_CASH_SHORTAGE = "5401"
EXP_GATEWAY_FEES = "5204"

# Every code named by a constant above: services post to these, so they can never be deleted.
SYSTEM_CODES: frozenset[str] = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str) and value.isdigit()
)

# (code, name, type, parent code, flags). Flags: group, control, cash, nomanual.
DEFAULT_CHART: list[tuple[str, str, str, str | None, str]] = [
    ("1000", "Assets", "asset", None, "group"),
    ("1100", "Cash", "asset", "1000", "group"),
    (VAULT_CASH, "Cash in hand (vault)", "asset", "1100", "cash"),
    (TELLER_CASH, "Teller cash drawers", "asset", "1100", "cash control nomanual"),
    ("1200", "Balances with banks and settlement", "asset", "1000", "group"),
    (BANK_DCCB, "Balance with District Central Co-operative Bank", "asset", "1200", ""),
    (BANK_CURRENT, "Balance with commercial bank (current account)", "asset", "1200", ""),
    (UPI_SETTLEMENT, "UPI settlement", "asset", "1200", "nomanual"),
    (NEFT_IMPS_SETTLEMENT, "NEFT / IMPS settlement", "asset", "1200", "nomanual"),
    (RAZORPAY_SETTLEMENT, "Payment gateway (Razorpay) settlement", "asset", "1200", "nomanual"),
    (RAZORPAYX_BALANCE, "RazorpayX current account (payouts)", "asset", "1200", ""),
    ("1300", "Loans and advances to members", "asset", "1000", "group"),
    (LOANS_PERSONAL, "Personal loans", "asset", "1300", "control"),
    (LOANS_GOLD, "Gold loans", "asset", "1300", "control"),
    (LOANS_AGRI, "Agriculture loans", "asset", "1300", "control"),
    (LOANS_HOUSING, "Housing loans", "asset", "1300", "control"),
    (LOANS_AGAINST_DEPOSIT, "Loans against deposits", "asset", "1300", "control"),
    (LOANS_VEHICLE, "Vehicle loans", "asset", "1300", "control"),
    (LOANS_BUSINESS, "Business loans", "asset", "1300", "control"),
    ("1400", "Interest receivable", "asset", "1000", "group"),
    (INTEREST_RECEIVABLE_LOANS, "Interest receivable on loans", "asset", "1400", ""),
    (PENAL_RECEIVABLE, "Penal charges receivable", "asset", "1400", ""),
    ("1500", "Investments", "asset", "1000", "group"),
    ("1501", "Fixed deposits with banks", "asset", "1500", ""),
    ("1502", "Government securities", "asset", "1500", ""),
    ("1600", "Other assets", "asset", "1000", "group"),
    ("1601", "Furniture and fixtures", "asset", "1600", ""),
    ("1602", "Advances and prepaid expenses", "asset", "1600", ""),
    (TDS_RECEIVABLE, "TDS receivable", "asset", "1600", ""),
    (GST_INPUT, "GST input credit", "asset", "1600", ""),
    ("2000", "Liabilities", "liability", None, "group"),
    ("2100", "Deposits from members", "liability", "2000", "group"),
    (SB_DEPOSITS, "Savings deposits", "liability", "2100", "control"),
    (FD_DEPOSITS, "Fixed deposits", "liability", "2100", "control"),
    (RD_DEPOSITS, "Recurring deposits", "liability", "2100", "control"),
    (CURRENT_DEPOSITS, "Current deposits", "liability", "2100", "control"),
    ("2200", "Interest payable", "liability", "2000", "group"),
    (INTEREST_PAYABLE_FD, "Interest payable on fixed deposits", "liability", "2200", ""),
    (INTEREST_PAYABLE_RD, "Interest payable on recurring deposits", "liability", "2200", ""),
    ("2300", "Statutory dues", "liability", "2000", "group"),
    (TDS_PAYABLE, "TDS payable (section 194A)", "liability", "2300", ""),
    (GST_PAYABLE, "GST payable (output tax on fees)", "liability", "2300", ""),
    ("2400", "Suspense and sundry", "liability", "2000", "group"),
    (SUSPENSE, "Suspense account", "liability", "2400", ""),
    (CASH_OVER_SHORT, "Cash shortage and excess (teller suspense)", "liability", "2400", ""),
    (SUNDRY_PAYABLE, "Sundry creditors", "liability", "2400", ""),
    (DIVIDEND_PAYABLE, "Dividend payable", "liability", "2400", ""),
    (PAYOUTS_IN_TRANSIT, "Payouts in transit (RazorpayX)", "liability", "2400", "nomanual"),
    ("2500", "Provisions", "liability", "2000", "group"),
    (NPA_PROVISION, "Bad and doubtful debts reserve (NPA provision)", "liability", "2500", ""),
    (STANDARD_ASSET_PROVISION, "Provision for standard assets", "liability", "2500", ""),
    ("2600", "Memorandum and suspense reserves", "liability", "2000", "group"),
    (INTEREST_SUSPENSE, "Overdue interest reserve (interest suspense)", "liability", "2600", ""),
    ("2700", "Borrowings", "liability", "2000", "group"),
    (BORROWINGS_DCCB, "Borrowings from District Central Co-operative Bank", "liability", "2700", ""),
    ("3000", "Capital and reserves", "equity", None, "group"),
    (SHARE_CAPITAL, "Share capital", "equity", "3000", "control"),
    (STATUTORY_RESERVE, "Statutory reserve fund", "equity", "3000", ""),
    ("3300", "Other reserves and funds", "equity", "3000", "group"),
    (BUILDING_FUND, "Building fund", "equity", "3300", ""),
    (DIVIDEND_EQUALISATION_FUND, "Dividend equalisation fund", "equity", "3300", ""),
    (EDUCATION_FUND, "Co-operative education fund", "equity", "3300", ""),
    ("3400", "Profit and loss", "equity", "3000", "group"),
    (PL_APPROPRIATION, "Profit and loss appropriation", "equity", "3400", ""),
    ("4000", "Income", "income", None, "group"),
    (INCOME_LOAN_INTEREST, "Interest on loans", "income", "4000", ""),
    (INCOME_PENAL, "Penal charges", "income", "4000", ""),
    (INCOME_PROCESSING_FEE, "Loan processing fees", "income", "4000", ""),
    (INCOME_MEMBERSHIP_FEE, "Membership (admission) fees", "income", "4000", ""),
    (INCOME_SERVICE_CHARGES, "Service charges", "income", "4000", ""),
    (INCOME_INVESTMENTS, "Interest on investments", "income", "4000", ""),
    (INCOME_MISC, "Miscellaneous income", "income", "4000", ""),
    (INCOME_BAD_DEBTS_RECOVERED, "Bad debts recovered", "income", "4000", ""),
    ("5000", "Expenditure", "expense", None, "group"),
    (EXP_SB_INTEREST, "Interest on savings deposits", "expense", "5000", ""),
    (EXP_FD_INTEREST, "Interest on fixed deposits", "expense", "5000", ""),
    (EXP_RD_INTEREST, "Interest on recurring deposits", "expense", "5000", ""),
    ("5201", "Salaries and allowances", "expense", "5000", ""),
    ("5202", "Rent, rates and taxes", "expense", "5000", ""),
    ("5203", "Printing and stationery", "expense", "5000", ""),
    (EXP_GATEWAY_FEES, "Payment gateway charges", "expense", "5000", ""),
    (EXP_NPA_PROVISION, "Provision for NPA", "expense", "5000", ""),
    (EXP_STD_PROVISION, "Provision for standard assets", "expense", "5000", ""),
    (EXP_CASH_SHORTAGE, "Cash shortage written off", "expense", "5000", ""),
    ("5999", "Miscellaneous expenses", "expense", "5000", ""),
]


def seed_chart() -> int:
    """Create the default chart of accounts where missing; returns how many were added."""
    existing: dict[str, GLAccount] = {row[0]: row[1] for row in db.session.execute(select(GLAccount.code, GLAccount))}
    added = 0
    for code, name, type_, parent_code, flags in DEFAULT_CHART:
        if code in existing:
            continue
        words = set(flags.split())
        gl = GLAccount(
            code=code,
            name=name,
            type=type_,
            normal_side=NORMAL_SIDE[type_],
            parent=existing.get(parent_code) if parent_code else None,
            is_group="group" in words,
            is_control="control" in words,
            is_cash="cash" in words,
            allow_manual=not ({"group", "control", "nomanual"} & words),
            active=True,
        )
        db.session.add(gl)
        existing[code] = gl
        added += 1
    db.session.flush()
    return added
