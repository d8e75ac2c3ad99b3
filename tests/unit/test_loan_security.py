"""Gold valuation and LTV bands (pure rules), worked by hand.

20 g net of 18 carat at ₹6,000/g (22 carat rate): 20 × 18/22 × 6000 = 98,181.818… → ₹98,181.82.
RBI bands on the borrower's total gold loans: 85 % up to ₹2.5 lakh, 80 % up to ₹5 lakh, 75 % above.
"""

import pytest

from app.services import loans
from app.services.common import ValidationError
from app.services.loans import collateral


def test_gold_value_scales_by_purity_and_rounds_half_up():
    item = loans.GoldItem("Bangle", 21_000, 20_000, 18)
    assert collateral.gold_value(item, 6000_00) == 98_181_82
    assert collateral.gold_value(loans.GoldItem("Coin", 10_000, 10_000, 22), 6000_00) == 60_000_00


def test_bad_weights_and_purity_are_refused():
    with pytest.raises(ValidationError, match="Net weight"):
        collateral.gold_value(loans.GoldItem("x", 10_000, 11_000, 22), 6000_00)
    with pytest.raises(ValidationError, match="carats"):
        collateral.gold_value(loans.GoldItem("x", 10_000, 10_000, 25), 6000_00)


def test_rbi_ltv_bands_by_the_borrowers_total():
    assert collateral.band_ltv_bp(2_50_000_00) == 8500
    assert collateral.band_ltv_bp(2_50_000_01) == 8000
    assert collateral.band_ltv_bp(5_00_000_00) == 8000
    assert collateral.band_ltv_bp(5_00_000_01) == 7500


def test_the_stricter_of_product_and_band_applies():
    # ₹1,00,000 of gold: a product allowing 90 % is held to the band's 85 % → ₹85,000 at most.
    assert collateral.check_gold_ltv(85_000_00, 1_00_000_00, 9000) == 8500
    with pytest.raises(ValidationError, match=r"at most ₹85,000\.00"):
        collateral.check_gold_ltv(85_000_01, 1_00_000_00, 9000)
    # The band is on the borrower's total: with ₹2,00,000 already borrowed, 80 % applies.
    with pytest.raises(ValidationError, match="80% LTV"):
        collateral.check_gold_ltv(85_000_00, 1_00_000_00, 9000, other_gold_paise=2_00_000_00)
