"""Both mocks read their config the same way: a frozen dataclass from the lower-case keys, Flask gets
the upper-case ones, and a typo is an error."""
import pytest

from mocks.braze import BrazeConfig
from mocks.braze import create_app as create_braze_app
from mocks.common.settings import split_settings
from mocks.mixpanel import MixpanelConfig
from mocks.mixpanel import create_app as create_mixpanel_app


def test_split_settings_sends_upper_case_to_flask_and_maps_aliases():
    settings, flask_config = split_settings("X", {"a": 1, "TESTING": True, "OLD": 2}, ["a", "b"], {"OLD": "b"})
    assert (settings, flask_config) == ({"a": 1, "b": 2}, {"TESTING": True})
    with pytest.raises(ValueError, match=r"unknown X mock settings: \['c'\]"):
        split_settings("X", {"c": 1}, ["a"])


def test_both_configs_are_frozen_dataclasses_built_from_a_mapping():
    braze = BrazeConfig.from_mapping({"match_log_limit": 5})
    mixpanel = MixpanelConfig.from_mapping({"limits": {"query_per_hour": 7}, "exports": {"operations_cap": 9}})
    assert braze.match_log_limit == 5
    assert (mixpanel.limits.query_per_hour, mixpanel.exports.operations_cap) == (7, 9)
    for config in (braze, mixpanel):
        with pytest.raises(AttributeError):
            config.limits = None  # frozen


@pytest.mark.parametrize("create, name", [(create_braze_app, "Braze"), (create_mixpanel_app, "Mixpanel")])
def test_both_apps_refuse_an_unknown_setting_and_pass_flask_keys_on(create, name):
    with pytest.raises(ValueError, match=f"unknown {name} mock settings"):
        create({"colour": "blue"})
    assert create({"TESTING": True}).config["TESTING"] is True


def test_mixpanel_still_reads_the_older_upper_case_spellings():
    app = create_mixpanel_app({"MIXPANEL_LIMITS": {"query_per_hour": 5000}, "EXPORTS": {"operations_cap": 5}})
    assert "MIXPANEL_LIMITS" not in app.config and "EXPORTS" not in app.config
    with pytest.raises(ValueError, match="MIXPANEL_LIMITS at \\$: Additional properties"):
        create_mixpanel_app({"limits": {"nope": 1}})
