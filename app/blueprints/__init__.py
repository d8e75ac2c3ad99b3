"""Blueprint registration."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.blueprints.api import bp as api_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.calculators import bp as calculators_bp
    from app.blueprints.health import bp as health_bp
    from app.blueprints.ledger import bp as ledger_bp
    from app.blueprints.loans import bp as loans_bp
    from app.blueprints.portal import bp as portal_bp
    from app.blueprints.reports import bp as reports_bp
    from app.blueprints.staff import bp as staff_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(staff_bp)
    app.register_blueprint(ledger_bp, url_prefix="/ledger")
    app.register_blueprint(loans_bp, url_prefix="/loans")
    app.register_blueprint(portal_bp, url_prefix="/portal")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(calculators_bp, url_prefix="/calculators")
