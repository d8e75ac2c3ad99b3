from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.users import StaffUser


def test_admin_creates_deactivates_and_resets_totp(client, login, make_user):
    login("admin")
    response = client.post(
        "/staff/users/new",
        data={
            "username": "priya",
            "full_name": "Priya Kulkarni",
            "email": "",
            "role": "cashier",
            "password": "Teller-pass-1",
        },
    )
    assert response.status_code == 302
    priya = db.session.scalar(select(StaffUser).where(StaffUser.username == "priya"))
    assert priya.role == "cashier" and priya.active
    page = client.get("/staff/users").get_data(as_text=True)
    assert "Priya Kulkarni" in page

    response = client.post(f"/staff/users/{priya.id}/deactivate", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Deactivated" in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)  # only the row
    assert "deactivated" in response.headers["HX-Trigger"]
    db.session.refresh(priya)
    assert priya.active is False

    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "staff.deactivate"))
    assert entry.before["active"] is True and entry.after["active"] is False
    assert entry.actor_role == "admin"


def test_new_user_form_shows_errors_and_saves_nothing(client, login):
    login("admin")
    response = client.post(
        "/staff/users/new", data={"username": "ravi", "full_name": "Ravi", "role": "clerk", "password": "ravi"}
    )
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.username == "ravi")) is None


def test_clerk_cannot_manage_users(client, login):
    login("clerk")
    assert client.get("/staff/users").status_code == 403
    assert client.post("/staff/users/new", data={}).status_code == 403


def test_admin_cannot_deactivate_self(client, login):
    admin = login("admin")
    response = client.post(f"/staff/users/{admin.id}/deactivate")
    assert response.status_code == 422
    db.session.refresh(admin)
    assert admin.active
