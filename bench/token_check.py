"""What binding access tokens to their sign-in costs per API request (issue 15, item 2).

    python -m bench.token_check [--families 20000] [--rotations 2880] [--n 2000]

On the scratch PostgreSQL database (see ``bench/common.py``): ``--families`` sign-ins of
other users' refresh tokens, plus one long-lived family rotated ``--rotations`` times (30
days of 15-minute refreshes) that is live, and the same again revoked. Times
``tokens.session_live`` (the one primary-key lookup every request makes), and
``verify_access`` against ``decode_access`` (the JWT check alone), and prints the query plan.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, select, text

from bench.common import HELP_EPILOG, bench_url, migrated_app, summarise_ms


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=HELP_EPILOG)
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--rotations", type=int, default=2_880)
    parser.add_argument("--n", type=int, default=2_000)
    args = parser.parse_args(argv)

    app = migrated_app(bench_url())
    from app.extensions import db
    from app.models.api import RefreshToken
    from app.models.base import utcnow
    from app.services.access import staff_auth, tokens
    from app.services.common import SYSTEM, acting_as, uow

    with app.app_context(), acting_as(SYSTEM):
        user = staff_auth.create_user(username="bench", password="Bench-Password-1", role="clerk")
        uow.commit()
        now = utcnow()
        later = now + timedelta(days=30)

        def rows(family: str, count: int, revoked: bool, offset: int) -> list[dict]:
            return [
                {
                    "token_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                    "family_id": family,
                    "subject_kind": "staff",
                    "subject_id": user.id + (offset % 500),
                    "issued_at": now,
                    "expires_at": later,
                    "used_at": now if i < count - 1 else None,
                    "revoked_at": now if revoked else None,
                }
                for i in range(count)
            ]

        batch: list[dict] = []
        for i in range(args.families):
            batch += rows(uuid.uuid4().hex, 3, i % 3 == 0, i)
            if len(batch) >= 10_000:
                db.session.execute(insert(RefreshToken), batch)
                batch = []
        live, dead = uuid.uuid4().hex, uuid.uuid4().hex
        batch += rows(live, args.rotations, False, 0) + rows(dead, args.rotations, True, 0)
        db.session.execute(insert(RefreshToken), batch)
        db.session.commit()
        newest = {  # the row an access token of each family was issued with (the last rotation)
            family: db.session.scalar(
                select(RefreshToken).where(RefreshToken.family_id == family).order_by(RefreshToken.id.desc()).limit(1)
            )
            for family in (live, dead)
        }
        db.session.execute(text("ANALYZE api_refresh_tokens"))
        db.session.commit()
        total = db.session.execute(text("SELECT count(*) FROM api_refresh_tokens")).scalar()

        subject = tokens.staff_subject(user)
        bound, _ = tokens.access_token(subject, newest[live])
        live_id, dead_id = newest[live].id, newest[dead].id
        for _ in range(50):  # warm the connection and the plan cache
            tokens.session_live(live_id, live)
        print(f"api_refresh_tokens: {total:,} rows; the live and the revoked family have {args.rotations:,} each")
        print(f"session_live (live):    {summarise_ms(_timed(lambda: tokens.session_live(live_id, live), args.n))}")
        print(f"session_live (revoked): {summarise_ms(_timed(lambda: tokens.session_live(dead_id, dead), args.n))}")
        print(f"decode_access (JWT only): {summarise_ms(_timed(lambda: tokens.decode_access(bound), args.n))}")
        print(f"verify_access (JWT + sign-in): {summarise_ms(_timed(lambda: tokens.verify_access(bound), args.n))}")
        plan = db.session.execute(
            text("EXPLAIN (ANALYZE, COSTS OFF) SELECT family_id, revoked_at FROM api_refresh_tokens WHERE id = :id"),
            {"id": dead_id},
        ).scalars()
        print("plan (revoked family):\n  " + "\n  ".join(plan))
        db.session.rollback()


if __name__ == "__main__":
    main()
