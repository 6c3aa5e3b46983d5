"""Which aliases a run may remove (_ownership): the one rule set, and every place that states its defaults agrees."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _ownership as own
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def test_removals_respect_every_owner():
    ownership = own.Ownership()
    held = ["wso2carbon", "digicert global root ca [jdk]", "production_mobile_-1234", "sandbox_partner_42",
            "orders", "orders-1", "legacy", "production-like"]
    removals, unmanaged, owned = ownership.removals(held, ["orders"], ["Legacy"], prune=False)
    assert removals == ["Legacy"] and unmanaged == ["production-like"]
    assert owned == {"production_mobile_-1234": own.CLIENT, "sandbox_partner_42": own.CLIENT}
    removals, unmanaged, owned = ownership.removals(held, ["orders"], ["sandbox_partner_42"], prune=True)
    assert removals == ["sandbox_partner_42", "legacy", "production-like"] and unmanaged == []
    assert owned == {"production_mobile_-1234": own.CLIENT}


def test_a_removal_also_wanted_is_not_a_removal_and_one_given_twice_counts_once():
    removals, _unmanaged, _owned = own.Ownership().removals([], ["orders"], ["ORDERS", "old", "Old"], prune=False)
    assert removals == ["old"]


def test_a_bad_stock_pattern_is_named():
    with pytest.raises(ApimCertificatesError, match="stock_alias_pattern '\\[' is not a valid regular expression"):
        own.Ownership(stock_pattern="[")


def test_the_defaults_are_stated_the_same_everywhere():
    """The code's defaults (_ownership) are the role's and the module's documented ones."""
    with open(os.path.join(ROOT, "roles", "gateway_sync", "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "roles", "gateway_sync", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    with open(os.path.join(ROOT, "plugins", "modules", "gateway_trust.py"), encoding="utf-8") as handle:
        source = handle.read()
    documentation = yaml.safe_load(source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])["options"]
    for protected, pattern in (
        (defaults["gateway_sync_protected_aliases"], defaults["gateway_sync_stock_alias_pattern"]),
        (spec["gateway_sync_protected_aliases"]["default"], spec["gateway_sync_stock_alias_pattern"]["default"]),
        (documentation["protected_aliases"]["default"], documentation["stock_alias_pattern"]["default"]),
    ):
        assert tuple(protected) == own.DEFAULT_PROTECTED and pattern == own.DEFAULT_STOCK_PATTERN
