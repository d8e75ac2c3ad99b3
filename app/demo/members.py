"""Demo members: ~30 people from Maharashtra, Karnataka and Gujarat in every state of the workflow.

DEMO DATA ONLY. Aadhaar numbers are random but carry a valid Verhoeff check digit, PANs
follow the format with random letters: none belongs to a real person. Documents are tiny
generated PNG/PDF files marked as demo. Needs the chart of accounts, an open business day
and the demo staff users (a clerk as maker, a manager as checker), which ``demo.seed``
creates first. Runs once: it does nothing when members already exist. The caller commits.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.base import UTC
from app.models.members import Member
from app.models.users import Branch, StaffUser
from app.services import members as members_service
from app.services.access import member_auth, staff_auth
from app.services.common import SYSTEM, acting_as, approvals, verhoeff_check_digit
from app.services.ledger import calendar
from app.services.members import kyc, shares

DEMO_MEMBER_PASSWORD = "Demo@12345"  # demo seed only


@dataclass(frozen=True)
class Person:
    name: str
    gender: str
    relative: str
    occupation: str
    born: date
    place: tuple[str, str, str, str]  # village / town, district, state, PIN
    street: str
    plan: str  # what happens to this member in the demo
    extra_shares: int = 0
    risk: str = "low"
    pan: bool = True


MH, KA, GJ = "Maharashtra", "Karnataka", "Gujarat"
PLACES = {
    "sinnar": ("Sinnar", "Nashik", MH, "422103"),
    "niphad": ("Niphad", "Nashik", MH, "422303"),
    "yeola": ("Yeola", "Nashik", MH, "423401"),
    "baramati": ("Baramati", "Pune", MH, "413102"),
    "junnar": ("Junnar", "Pune", MH, "410502"),
    "sangamner": ("Sangamner", "Ahilyanagar", MH, "422605"),
    "karad": ("Karad", "Satara", MH, "415110"),
    "wai": ("Wai", "Satara", MH, "412803"),
    "islampur": ("Islampur", "Sangli", MH, "415409"),
    "pandharpur": ("Pandharpur", "Solapur", MH, "413304"),
    "hunsur": ("Hunsur", "Mysuru", KA, "571105"),
    "nanjangud": ("Nanjangud", "Mysuru", KA, "571301"),
    "gokak": ("Gokak", "Belagavi", KA, "591307"),
    "athani": ("Athani", "Belagavi", KA, "591304"),
    "ranebennur": ("Ranebennur", "Haveri", KA, "581115"),
    "sirsi": ("Sirsi", "Uttara Kannada", KA, "581401"),
    "anand": ("Anand", "Anand", GJ, "388001"),
    "petlad": ("Petlad", "Anand", GJ, "388450"),
    "unjha": ("Unjha", "Mehsana", GJ, "384170"),
    "mehsana": ("Mehsana", "Mehsana", GJ, "384002"),
    "gondal": ("Gondal", "Rajkot", GJ, "360311"),
    "dhoraji": ("Dhoraji", "Rajkot", GJ, "360410"),
    "vyara": ("Vyara", "Tapi", GJ, "394650"),
}

# plan: active | active_overdue | active_due | inactive | deceased | resigned | kyc_approved |
#       submitted | pending | pending_docs | rejected | minor_active | app_applicant
PEOPLE: list[Person] = [
    Person("Sunita Ramesh Patil", "female", "Ramesh Patil", "Dairy farmer", date(1979, 3, 12), PLACES["sinnar"], "14, Shivaji Chowk", "active", 15),
    Person("Dnyaneshwar Baburao Pawar", "male", "Baburao Pawar", "Grape grower", date(1968, 7, 2), PLACES["niphad"], "Pimpalgaon Road, Gat No. 221", "active", 40, "medium"),
    Person("Savita Vinayak Kulkarni", "female", "Vinayak Kulkarni", "School teacher", date(1983, 11, 23), PLACES["baramati"], "B-7, Saraswati Nagar", "active"),
    Person("Ganesh Dattatray Shinde", "male", "Dattatray Shinde", "Tractor mechanic", date(1990, 1, 30), PLACES["yeola"], "Near Bus Stand, Main Road", "active", 5),
    Person("Vaishali Sanjay Jadhav", "female", "Sanjay Jadhav", "Tailoring shop", date(1987, 5, 18), PLACES["junnar"], "Ganesh Peth, Lane 3", "active_due", 0, "medium"),
    Person("Prakash Maruti Gaikwad", "male", "Maruti Gaikwad", "Sugarcane farmer", date(1961, 9, 9), PLACES["karad"], "At Post Malkapur, Karad-Dhebewadi Road", "active", 90),
    Person("Manisha Anil Deshmukh", "female", "Anil Deshmukh", "Anganwadi worker", date(1985, 2, 14), PLACES["wai"], "Dharmapuri Peth, House 62", "active_overdue", 0, "high"),
    Person("Sachin Vasant More", "male", "Vasant More", "Kirana shop owner", date(1982, 4, 4), PLACES["islampur"], "Yallama Chowk, Shop 5", "active", 10),
    Person("Aarav Sachin More", "male", "Sachin More", "Student", date(2011, 8, 21), PLACES["islampur"], "Yallama Chowk, Shop 5", "minor_active", 0, "low", False),
    Person("Rohini Shivaji Bhosale", "female", "Shivaji Bhosale", "Self-help group leader", date(1976, 12, 1), PLACES["pandharpur"], "Station Road, Near Vitthal Mandir", "inactive"),
    Person("Anil Bhimrao Chavan", "male", "Bhimrao Chavan", "Retired soldier", date(1955, 6, 15), PLACES["sangamner"], "Ghulewadi Phata, Plot 18", "deceased"),
    Person("Kavita Dilip Salunkhe", "female", "Dilip Salunkhe", "Vegetable vendor", date(1992, 10, 10), PLACES["karad"], "Somwar Peth, Room 9", "submitted", 0, "low", False),
    Person("Tukaram Hari Kale", "male", "Hari Kale", "Farm labourer", date(1972, 3, 3), PLACES["sinnar"], "Wavi Road, Kale Vasti", "pending", 0, "low", False),
    Person("Manjunath Siddappa Gowda", "male", "Siddappa Gowda", "Coconut grower", date(1975, 1, 26), PLACES["hunsur"], "2nd Cross, Kalkunike", "active", 20),
    Person("Lakshmi Narayan Hegde", "female", "Narayan Hegde", "Arecanut farmer", date(1969, 8, 8), PLACES["sirsi"], "Marikamba Nagar, 4th Lane", "active", 30, "medium"),
    Person("Basavaraj Mallappa Patil", "male", "Mallappa Patil", "Sugarcane farmer", date(1966, 12, 19), PLACES["gokak"], "Halli Road, Near APMC", "resigned"),
    Person("Shobha Prakash Kulkarni", "female", "Prakash Kulkarni", "Post office agent", date(1980, 4, 27), PLACES["athani"], "Vidya Nagar, House 12", "active"),
    Person("Ravi Ganapati Shetty", "male", "Ganapati Shetty", "Hotel owner", date(1978, 9, 5), PLACES["nanjangud"], "RP Road, Opp. Srikanteshwara Temple", "submitted", 0, "medium"),
    Person("Geetha Ramappa Naik", "female", "Ramappa Naik", "Silk reeler", date(1988, 6, 30), PLACES["ranebennur"], "Kurubgeri, 1st Main", "rejected"),
    Person("Mallikarjun Shivappa Hiremath", "male", "Shivappa Hiremath", "Priest", date(1964, 2, 2), PLACES["athani"], "Math Galli, House 3", "kyc_approved"),
    Person("Hiren Mahendrabhai Patel", "male", "Mahendrabhai Patel", "Milk society secretary", date(1974, 5, 20), PLACES["anand"], "12, Sardar Patel Society, Vallabh Vidyanagar Road", "active", 50),
    Person("Jignesh Kantilal Shah", "male", "Kantilal Shah", "Cloth merchant", date(1981, 11, 11), PLACES["petlad"], "Kansara Bazar, Shop 14", "active", 25, "medium"),
    Person("Bhavna Nitinbhai Desai", "female", "Nitinbhai Desai", "Nurse", date(1986, 7, 7), PLACES["mehsana"], "B-22, Radhe Residency, Modhera Road", "active"),
    Person("Ketan Ramanbhai Parmar", "male", "Ramanbhai Parmar", "Cumin trader", date(1979, 3, 28), PLACES["unjha"], "APMC Market Yard, Block C", "active", 10),
    Person("Nisha Jayeshbhai Chauhan", "female", "Jayeshbhai Chauhan", "Beautician", date(1995, 1, 17), PLACES["gondal"], "Station Plot, Street 6", "submitted"),
    Person("Dipak Bhikhabhai Solanki", "male", "Bhikhabhai Solanki", "Groundnut farmer", date(1970, 10, 2), PLACES["dhoraji"], "Jamnagar Road, Solanki Vas", "active", 0, "low", False),
    Person("Hansaben Maldebhai Rabari", "female", "Maldebhai Rabari", "Cattle rearer", date(1973, 4, 14), PLACES["vyara"], "Rabari Vas, Kanpura", "pending_docs", 0, "low", False),
    Person("Rameshbhai Jivabhai Prajapati", "male", "Jivabhai Prajapati", "Potter", date(1960, 8, 15), PLACES["mehsana"], "Kumbharvas, Near Tower", "active_overdue", 0, "high"),
    Person("Kiran Hasmukhbhai Joshi", "female", "Hasmukhbhai Joshi", "Tuition teacher", date(1993, 12, 25), PLACES["anand"], "Ganesh Chokdi, Flat 302", "app_applicant"),
    Person("Meera Vijay Kulkarni", "female", "Vijay Kulkarni", "Pharmacist", date(1989, 9, 19), PLACES["baramati"], "Indapur Road, Medical Lane", "active", 10),
]  # fmt: skip


def _png(rgb: tuple[int, int, int], width: int = 24, height: int = 18) -> bytes:
    """A small solid-colour PNG (demo photo / signature placeholder)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _pdf(title: str) -> bytes:
    """A one-page PDF saying it is a demo document."""
    text = f"DEMO DOCUMENT - NOT REAL: {title}".replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 40 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def fake_aadhaar(rng: random.Random) -> str:
    """A random 12-digit number with a valid Verhoeff check digit (not anyone's Aadhaar)."""
    while True:
        body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        number = body + verhoeff_check_digit(body)
        if number != number[::-1]:
            return number


def fake_pan(rng: random.Random, surname: str) -> str:
    """A PAN-shaped individual's number (4th letter P, 5th the surname's initial)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (
        "".join(rng.choice(letters) for _ in range(3))
        + "P"
        + surname[0].upper()
        + f"{rng.randint(1, 9999):04d}"
        + rng.choice(letters)
    )


def _staff(role: str) -> StaffUser:
    user = staff_auth.find_by_username(role) or db.session.scalar(
        select(StaffUser).where(StaffUser.role == role, StaffUser.active.is_(True)).order_by(StaffUser.id)
    )
    if user is None:
        raise RuntimeError(f"seed_members needs an active {role} user (run the demo seed first)")
    return user


def _upload_all(member: Member, clerk: StaffUser, *, with_pan: bool, bad_aadhaar: bool = False) -> None:
    kyc.upload_document(member, "photo", _png((196, 160, 130)), filename="photo.png", by=clerk)
    kyc.upload_document(member, "signature", _png((30, 30, 90), 40, 12), filename="signature.png", by=clerk)
    if with_pan:
        kyc.upload_document(member, "pan", _pdf(f"PAN card of {member.name}"), filename="pan.pdf", by=clerk)
    else:
        kyc.upload_document(member, "form60", _pdf(f"Form 60 of {member.name}"), filename="form60.pdf", by=clerk)
    title = "blurred Aadhaar" if bad_aadhaar else f"Aadhaar of {member.name}"
    kyc.upload_document(member, "aadhaar", _pdf(title), filename="aadhaar.pdf", by=clerk)


def seed_members(*, rng_seed: int = 2026) -> list[str]:
    """Create the demo members (once) and return lines describing them for the console."""
    if db.session.scalar(select(func.count()).select_from(Member)):
        return []
    today = calendar.current_business_date()
    rng = random.Random(rng_seed)  # noqa: S311  (demo data, not security)
    clerk, manager, cashier = _staff("clerk"), _staff("manager"), _staff("cashier")
    branch = db.session.scalar(select(Branch).order_by(Branch.id))
    clerk_actor = staff_auth.actor_for(clerk)
    cashier_actor = staff_auth.actor_for(cashier)
    manager_actor = staff_auth.actor_for(manager)
    used_mobiles: set[str] = set()
    counts: dict[str, int] = {}
    login_member: Member | None = None
    app_mobile = ""

    for person in PEOPLE:
        mobile = ""
        while not mobile or mobile in used_mobiles:
            mobile = rng.choice("6789") + "".join(str(rng.randint(0, 9)) for _ in range(9))
        used_mobiles.add(mobile)
        surname = person.name.split()[-1]
        village, district, state, pin = person.place
        minor = person.plan == "minor_active"
        data = {
            "name": person.name,
            "father_or_spouse_name": person.relative,
            "date_of_birth": person.born,
            "gender": person.gender,
            "mobile": mobile,
            "email": None,
            "address_line": person.street,
            "village_town": village,
            "district": district,
            "state": state,
            "pin": pin,
            "occupation": person.occupation,
            "member_type": "nominal" if minor else "regular",
            "kyc_risk": person.risk,
            "aadhaar": fake_aadhaar(rng),
            "pan": fake_pan(rng, surname) if person.pan else "",
            "form60": not person.pan,
            "guardian_name": person.relative if minor else None,
            "guardian_relation": "father" if minor else None,
            "nominees": []
            if minor
            else [
                {
                    "name": f"{person.relative.split()[0]} {surname}"
                    if person.gender == "female"
                    else f"{rng.choice(['Asha', 'Rekha', 'Usha', 'Jyoti', 'Pooja'])} {surname}",
                    "relationship": "husband" if person.gender == "female" else "wife",
                    "share_percent": "100",
                }
            ],
        }
        if person.plan == "app_applicant":
            with acting_as(SYSTEM):
                member, _login, _otp = member_auth.self_register(data, DEMO_MEMBER_PASSWORD)
            app_mobile = member.mobile
            counts["self-registered applicant"] = counts.get("self-registered applicant", 0) + 1
            continue
        with acting_as(clerk_actor):
            member = members_service.register(data, by=clerk, branch_id=branch.id if branch else None)
            if person.plan == "pending":
                counts["applicant, KYC pending"] = counts.get("applicant, KYC pending", 0) + 1
                continue
            _upload_all(member, clerk, with_pan=person.pan, bad_aadhaar=person.plan == "rejected")
            if person.plan == "pending_docs":
                counts["applicant, documents uploaded"] = counts.get("applicant, documents uploaded", 0) + 1
                continue
            kyc.submit(member, by=clerk)
        if person.plan == "submitted":
            counts["KYC waiting for review"] = counts.get("KYC waiting for review", 0) + 1
            continue
        with acting_as(manager_actor):
            if person.plan == "rejected":
                for doc in kyc.current_documents(member):
                    if doc.doc_type == "aadhaar":
                        kyc.reject_document(doc, by=manager, reason="Aadhaar copy is blurred; upload a clear scan.")
                    elif doc.status == "pending":
                        kyc.verify_document(doc, by=manager)
                kyc.reject(member, checker=manager, reason="Aadhaar copy unreadable.")
                counts["KYC rejected"] = counts.get("KYC rejected", 0) + 1
                continue
            for doc in kyc.current_documents(member):
                if doc.status == "pending":
                    kyc.verify_document(doc, by=manager)
            kyc.approve(member, checker=manager)
        if person.plan == "kyc_approved":
            counts["KYC approved, not yet admitted"] = counts.get("KYC approved, not yet admitted", 0) + 1
            continue
        with acting_as(cashier_actor):  # the fee and shares are paid in cash at the counter
            count = shares.min_shares() if minor else shares.min_shares() + person.extra_shares // 2
            shares.admit(member, shares=count, mode="cash", by=cashier)
            if person.extra_shares - person.extra_shares // 2 > 0 and not minor:
                shares.purchase(member, shares=person.extra_shares - person.extra_shares // 2, mode="cash", by=cashier)
        if person.plan in {"active_overdue", "active_due"}:
            # Demo only: pretend the KYC was approved long ago so the re-KYC list has entries.
            years = members_service.rekyc_years(member.kyc_risk)
            due = today - timedelta(days=45) if person.plan == "active_overdue" else today + timedelta(days=20)
            approved = date(due.year - years, due.month, min(due.day, 28))
            member.kyc_approved_at = datetime.combine(approved, time(11, 0), UTC)
            member.rekyc_due_on = due
        if person.plan == "inactive":
            with acting_as(clerk_actor):
                members_service.change_status(
                    member, "inactive", by=clerk, reason="No transactions; member moved to Pune"
                )
        if person.plan == "deceased":
            with acting_as(clerk_actor):
                members_service.change_status(
                    member, "deceased", by=clerk, reason="Death certificate received from the family"
                )
        if person.plan == "resigned":
            with acting_as(cashier_actor):
                req = shares.request_refund(
                    member,
                    shares=shares.shares_held(member),
                    mode="cash",
                    reason="Member resigned (moving to Hubballi)",
                    close_membership=True,
                    maker=cashier,
                )
            with acting_as(manager_actor):
                approvals.approve(req.id, checker=manager, note="Resignation letter on file")
        if person.plan == "active" and login_member is None and person.pan:
            login_member = member
        label = {"minor_active": "active", "active_overdue": "active", "active_due": "active"}.get(
            person.plan, person.plan
        )
        counts[label] = counts.get(label, 0) + 1
    db.session.flush()
    lines = [f"  members {sum(counts.values())} demo members: " + ", ".join(f"{n} {k}" for k, n in counts.items())]
    if login_member is not None:
        with acting_as(clerk_actor):
            member_auth.create_login(login_member, DEMO_MEMBER_PASSWORD)
        lines.append(
            f"  member {login_member.member_no} app login: mobile {login_member.mobile} / {DEMO_MEMBER_PASSWORD}"
            " (then the SMS code from the log / notifications outbox)"
        )
    if app_mobile:
        lines.append(f"  self-registered applicant: mobile {app_mobile} / {DEMO_MEMBER_PASSWORD}")
    return lines
