import json


def test_full_page_vs_htmx_partial(client, login):
    login("auditor")
    full = client.get("/staff/audit")
    body = full.get_data(as_text=True)
    assert "<html" in body and 'id="results"' in body
    assert "HX-Request" in full.headers.get("Vary", "")
    partial = client.get("/staff/audit", headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert "<html" not in text and "<table" in text
    assert "auth.login" in text  # the auditor's own sign-in is listed
    assert "HX-Request" in partial.headers.get("Vary", "")


def test_audit_filters(client, login):
    login("auditor")
    page = client.get("/staff/audit?action=staff.create", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "staff.create" in page and "auth.login" not in page
    none = client.get("/staff/audit?actor=nobody-at-all", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No audit entries match" in none


def test_base_page_loads_pinned_htmx_with_sri_and_csrf_header(app, client, login):
    login("clerk")
    body = client.get("/").get_data(as_text=True)
    assert f'src="{app.config["HTMX_URL"]}" integrity="{app.config["HTMX_SRI"]}"' in body
    assert 'hx-headers=\'{"X-CSRFToken":' in body


def test_security_headers(app, client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert app.config["HTMX_URL"] in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_dashboard_shows_business_date_and_role(client, login, app):
    from datetime import date

    from app.services.common import uow
    from app.services.ledger import calendar

    calendar.open_business_day(date(2026, 4, 1))
    uow.commit()
    login("cashier")
    body = client.get("/").get_data(as_text=True)
    assert "01-04-2026" in body and "Cashier" in body


def test_toast_header_is_json(client, login, make_user):
    login("admin")
    user = make_user("clerk", username="sunil")
    response = client.post(f"/staff/users/{user.id}/deactivate", headers={"HX-Request": "true"})
    payload = json.loads(response.headers["HX-Trigger"])
    assert payload["toast"]["message"] == "sunil deactivated."


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] == "ok"


def test_readyz_reports_unreachable_redis(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["redis"].startswith("error")


def test_html_404_and_403_pages(client, login):
    login("clerk")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "could not find" in missing.get_data(as_text=True)
    forbidden = client.get("/staff/audit")
    assert forbidden.status_code == 403 and "does not allow" in forbidden.get_data(as_text=True)
