"""Member builders shared by the member, KYC, share, storage and API tests: valid test
Aadhaar and PAN numbers, a complete registration form, small valid documents, and a member
registered, documented and KYC-approved in one call."""

from __future__ import annotations

from app.models.members import Member
from app.services import members
from app.services.common import uow, verhoeff_check_digit
from app.services.members import kyc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def aadhaar(n: int) -> str:
    """The n-th test Aadhaar number: valid check digit, first digit 2-9, not a palindrome."""
    body = f"{2 + n % 8}{n:010d}"
    return body + verhoeff_check_digit(body)


def pan(n: int, holder: str = "P") -> str:
    """The n-th test PAN."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"{letters[n % 26]}{letters[(n // 26) % 26]}X{holder}K{n % 10000:04d}Z"


def member_data(n: int = 1, **overrides) -> dict:
    """A complete, valid registration form for test person n."""
    data = {
        "name": "Sunita Ramesh Patil",
        "father_or_spouse_name": "Ramesh Patil",
        "date_of_birth": "1985-06-15",
        "gender": "female",
        "mobile": f"+91 98{n:08d}",
        "email": f"sunita{n}@example.in",
        "address_line": "14, Shivaji Chowk",
        "village_town": "Sinnar",
        "district": "Nashik",
        "state": "Maharashtra",
        "pin": "422103",
        "occupation": "Dairy farmer",
        "aadhaar": aadhaar(n),
        "pan": pan(n),
        "nominees": [{"name": "Ramesh Patil", "relationship": "husband", "share_percent": "100"}],
    }
    data.update(overrides)
    return data


def upload_all(member: Member, by, *, kinds=("photo", "signature", "pan", "aadhaar")) -> list:
    """Upload one small valid document of each kind."""
    blobs = {"photo": PNG, "signature": PNG, "pan": PDF, "aadhaar": PDF, "form60": PDF, "address_proof": JPEG}
    return [kyc.upload_document(member, k, blobs[k], filename=f"{k}.bin", by=by) for k in kinds]


def ready_member(clerk, manager, n: int = 1, **overrides) -> Member:
    """Registered by the clerk, documents uploaded and submitted, KYC approved by the manager."""
    member = members.register(member_data(n, **overrides), by=clerk)
    upload_all(member, clerk, kinds=("photo", "signature", "pan" if member.pan else "form60", "aadhaar"))
    kyc.submit(member, by=clerk)
    for doc in kyc.current_documents(member):
        kyc.verify_document(doc, by=manager)
    kyc.approve(member, checker=manager)
    uow.commit()
    return member
