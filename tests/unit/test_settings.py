from decimal import Decimal

import pytest

import config
from app.settings import SETTINGS, Setting, from_env, setting


def test_every_setting_has_a_type_a_default_of_that_type_and_help():
    for name, declared in SETTINGS.items():
        assert declared.name == name
        assert isinstance(declared.default, declared.type), name
        assert declared.help, name


def test_environment_overrides_are_converted_to_the_declared_type():
    values = from_env({"TDS_RATE_PAN": "12.5", "SB_INTEREST_TDS": "on", "MIN_SHARES": "20", "CTR_BASIS": "separate"})
    assert values["TDS_RATE_PAN"] == Decimal("12.5")
    assert values["SB_INTEREST_TDS"] is True
    assert values["MIN_SHARES"] == 20
    assert values["CTR_BASIS"] == "separate"
    assert values["TDS_RATE_NO_PAN"] == Decimal("20")  # untouched: the default


def test_a_setting_that_may_not_come_from_the_environment_ignores_it():
    assert from_env({"PASSWORD_MIN_LENGTH": "3"})["PASSWORD_MIN_LENGTH"] == 10


@pytest.mark.parametrize(("name", "raw"), [("MIN_SHARES", "ten"), ("SB_INTEREST_TDS", "maybe"), ("TDS_RATE_PAN", "x")])
def test_a_malformed_environment_value_is_refused(name, raw):
    with pytest.raises(ValueError, match=name):
        from_env({name: raw})


def test_config_takes_every_setting_from_the_declarations():
    for name, declared in SETTINGS.items():
        assert getattr(config.Config, name) == from_env()[name], name
        assert isinstance(getattr(config.TestingConfig, name), declared.type), name


def test_setting_reads_the_app_config_converted(app):
    app.config["TDS_RATE_PAN"] = "7.5"
    app.config["LARGE_WITHDRAWAL_PAISE"] = "100"
    with app.app_context():
        assert setting("TDS_RATE_PAN") == Decimal("7.5")
        assert setting("LARGE_WITHDRAWAL_PAISE") == 100
        assert setting("MEMBER_MIN_AGE") == 18


def test_setting_falls_back_to_the_default_when_the_config_lacks_it(app):
    del app.config["CTR_BASIS"]
    with app.app_context():
        assert setting("CTR_BASIS") == "combined"
    assert setting("FD_MAX_DAYS") == 3650  # outside an app: the default


def test_an_undeclared_setting_is_a_key_error(app):
    with app.app_context(), pytest.raises(KeyError):
        setting("NO_SUCH_SETTING")


def test_a_whole_number_setting_refuses_a_bool():
    with pytest.raises(ValueError):
        Setting("X", int, 0).convert(True)


def test_the_readme_names_every_setting_an_operator_may_set():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name, declared in SETTINGS.items() if declared.env and f"`{name}`" not in readme]
    assert not missing, f"add to the README's configuration table: {missing}"
