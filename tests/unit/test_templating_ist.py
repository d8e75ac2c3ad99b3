"""Times shown to people are Indian Standard Time, labelled, from UTC as stored."""

from datetime import UTC, date, datetime

from app.templating import ist


def test_naive_and_aware_utc_become_ist_with_the_label():
    assert ist(datetime(2026, 12, 1, 20, 0)) == "02-12-2026 01:30 IST"
    assert ist(datetime(2026, 12, 1, 20, 0, tzinfo=UTC), "%H:%M") == "01:30 IST"
    assert ist(None) == "" and ist(date(2026, 12, 2)) == "02-12-2026"
