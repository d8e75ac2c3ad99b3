"""The demo society: one staff user per role, an open business day, members and deposits.

DEMO CREDENTIALS ONLY. ``flask demo-seed`` refuses to run in production.
"""

from __future__ import annotations

from datetime import date

from flask import current_app

from app.extensions import db
from app.models.users import ROLES, Branch
from app.services.access import staff_auth
from app.services.common import uow
from app.services.ledger import calendar

DEMO_PASSWORD = "Demo@12345"  # demo seed only, printed by `make run`
DEMO_BRANCH = ("HO", "Head Office", "SAHK0000001")


def seed(today: date | None = None) -> list[str]:
    """Create what is missing of the demo society and return lines to print."""
    if current_app.config.get("ENV_NAME") == "production":
        raise RuntimeError("demo-seed is refused in production")
    from sqlalchemy import select

    branch = db.session.scalar(select(Branch).where(Branch.code == DEMO_BRANCH[0]))
    if branch is None:
        branch = Branch(
            code=DEMO_BRANCH[0],
            name=DEMO_BRANCH[1],
            ifsc=DEMO_BRANCH[2],
            address="Main Road, Nashik, Maharashtra 422001",
        )
        db.session.add(branch)
        db.session.flush()
    from app.services.ledger import coa

    coa.seed_chart()
    for role in ROLES:
        if staff_auth.find_by_username(role) is None:
            staff_auth.create_user(
                username=role, password=DEMO_PASSWORD, role=role, full_name=f"Demo {role.title()}", branch_id=branch.id
            )
    if calendar.open_day() is None and calendar.business_date_or_none() is None:
        from sqlalchemy import func

        from app.models.calendar import BusinessDay

        if not db.session.scalar(select(func.count()).select_from(BusinessDay)):
            calendar.open_business_day(today or date.today())
    from app.services.counter import teller

    from . import deposits as demo_deposits
    from . import loans as demo_loans
    from . import members as demo_members
    from . import portal as demo_portal

    teller.seed_demo_vault()
    cashier = staff_auth.find_by_username("cashier")
    if cashier is not None and teller.current_drawer(cashier) is None:
        teller.open_drawer(cashier, 0)  # the demo day's cash (fees, shares, deposits) lands here
    extra = demo_members.seed_members()
    extra += demo_deposits.seed_deposits()
    extra += demo_loans.seed_loans()
    extra += demo_portal.seed_portal_login(DEMO_PASSWORD)
    uow.commit()
    lines = ["Demo society ready. DEMO CREDENTIALS (demo data only):"]
    lines += [f"  staff  {role:<10} / {DEMO_PASSWORD}" for role in ROLES]
    return lines + extra
