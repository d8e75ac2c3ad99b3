"""Rate limits on the portal's sign-in steps (the test app switches limits off; this one has them on)."""

from __future__ import annotations

from app.extensions import db
from tests.conftest import make_app


def test_sign_in_steps_are_rate_limited(tmp_path):
    application = make_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_PORTAL="2 per minute")
    with application.app_context():
        db.create_all()
        client = application.test_client()
        for path in ("/portal/login", "/portal/activate", "/portal/forgot"):
            codes = [client.post(path, data={"mobile": "9800000000", "password": "x"}).status_code for _ in range(3)]
            assert codes[:2] != [429, 429] and codes[2] == 429, (path, codes)
        assert client.get("/portal/login").status_code == 200  # reading the page is not limited
        db.session.remove()
        db.engine.dispose()
