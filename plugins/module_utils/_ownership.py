# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which aliases of a shared truststore a run may remove: the one rule set of every module, filter and the role.

A gateway's client-truststore.jks is shared. The sender trusts backends from it, the HTTPS listener checks API
consumers' client certificates against it (the default listener profile names the same file;
../shared/docs/mutual-tls.md, part B), and it holds the product's own entries. So "every alias this run does not
name" is not "every alias this run may remove":

- stock entries (WSO2's own, such as wso2carbon and gateway_certificate_alias, and the JDK's CAs as '<name> [jdk]')
  are counted, never pruned;
- API client certificates, which the gateway writes itself when a revision of a mutual-SSL API is deployed
  (carbon-apimgt CertificateMgtUtils: '<KEYTYPE>_<alias>_<tenantId>', KEYTYPE PRODUCTION or SANDBOX, the super
  tenant -1234), belong to the Publisher: never pruned, and reported as owned elsewhere;
- a chain member stored as '<alias>-N' belongs to the alias it was stored with;
- everything else that the run does not name is unmanaged: reported, and removed only with prune.

An alias given in remove_aliases is removed whoever owns it: that is an explicit request.
"""

from __future__ import annotations

import re

from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._truststore_records import normalize_alias

DEFAULT_STOCK_PATTERN = r"\s\[jdk\]$"
DEFAULT_PROTECTED = ("wso2carbon", "gateway_certificate_alias")
# '<KEYTYPE>_<alias>_<tenantId>' as the gateway stores it (lower-cased by the keystore)
CLIENT_CERTIFICATE = re.compile(r"^(?:production|sandbox)_.+_-?\d+$")
_CHAIN_MEMBER = re.compile(r"-\d+$")

STOCK = "stock"
CLIENT = "API client certificate (the Publisher's)"


def chain_base(alias: str) -> str:
    """'orders-1' -> 'orders': a chain member is stored as <alias>-N."""
    return _CHAIN_MEMBER.sub("", alias)


class Ownership:
    """Who owns an alias, and so whether a run may remove it unasked."""

    __slots__ = ("names", "pattern")

    def __init__(self, protected=DEFAULT_PROTECTED, stock_pattern: str = DEFAULT_STOCK_PATTERN):
        self.names = {normalize_alias(p) for p in protected}
        try:
            self.pattern = re.compile(stock_pattern) if stock_pattern else None
        except re.error as exc:
            raise ApimCertificatesError(f"stock_alias_pattern {stock_pattern!r} is not a valid regular expression ({exc}); "
                                        r"give one such as '\s\[jdk\]$', or '' for none") from None

    def stock(self, alias: str) -> bool:
        return normalize_alias(alias) in self.names or bool(self.pattern and self.pattern.search(alias))

    __call__ = stock

    def owner(self, alias: str) -> str | None:
        """STOCK, CLIENT, or None for an alias this collection may manage."""
        if self.stock(alias):
            return STOCK
        if CLIENT_CERTIFICATE.match(normalize_alias(alias)):
            return CLIENT
        return None

    def removals(self, held, wanted, remove_aliases, prune: bool) -> tuple:
        """(aliases to remove, unmanaged aliases, {alias: owner} of those kept because another owns them).

        held: the aliases the node's stores hold; wanted: the aliases the run names (present or absent);
        remove_aliases: asked for explicitly (removed whoever owns them, once each, unless also wanted).
        unmanaged: held, not named, not a named alias's chain member, owned by nobody else: removed with prune.
        """
        named = {normalize_alias(a) for a in wanted}
        removals, seen = [], set()
        for alias in remove_aliases:
            key = normalize_alias(alias)
            if key not in named and key not in seen:
                removals.append(alias)
                seen.add(key)
        named |= seen
        unmanaged, owned = [], {}
        for alias in sorted(set(held)):
            if alias in named or chain_base(alias) in named:
                continue
            owner = self.owner(alias)
            if owner == STOCK:
                continue
            if owner is not None:
                owned[alias] = owner
            else:
                unmanaged.append(alias)
        if prune:
            return removals + unmanaged, [], owned
        return removals, unmanaged, owned
