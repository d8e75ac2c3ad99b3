"""Deposit builders shared by the deposit, counter and API tests.

``deposit_products`` is THE fixture for "the books plus the default SB, FD and RD products"
(it replaces four local copies); import it into a test module to use it.
"""

from __future__ import annotations

import pytest

from app.services import deposits
from app.services.common import uow


@pytest.fixture
def deposit_products(books):
    """The seeded books with the default savings, fixed and recurring deposit products."""
    deposits.seed_products()
    uow.commit()
    return books
