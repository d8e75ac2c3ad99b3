"""Member self-service portal (mobile-first)."""

from app.blueprints.portal import bp
from app.permissions import public
from app.web import render


@bp.get("/")
@public
def index():
    return render("portal/index.html")


@bp.get("/login")
@public
def login():
    return render("portal/login.html")
