# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ssl_profile's store validation: every keystore and truststore a planned profile names opens with its password
(part of _ssl_profiles: load -> plan -> validate -> apply); one that does not would fail the gateway's whole reload."""

from __future__ import annotations

import os

from ansible_collections.apim.certificates.plugins.module_utils._errors import SslProfileError, TruststoreError
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import SECRET_ALIAS_PREFIX
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import PROTECTED, resolve_location
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles_plan import Plan


# --- validate -------------------------------------------------------------------------------------------


_TYPE_COMPATIBLE = {("JKS", "PKCS12"), ("PKCS12", "JKS"), ("JCEKS", "JKS")}


def validate_stores(plan: Plan) -> list:
    """Open every store the result references with its password and type. Returns warnings; raises SslProfileError."""
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import (  # pylint: disable=import-outside-toplevel
        load_truststore,
        normalize_store_type,
    )

    warnings = []
    unresolved = []
    home = plan.current.home
    for check in plan.store_checks:
        if not check.location:
            raise SslProfileError(f"validate_stores: {check.what} has no location; give it (nothing was written)")
        if PROTECTED.search(check.password or ""):
            warnings.append(
                f"validate_stores: {check.what} ({check.location}) was not opened: its password is protected "
                f"({PROTECTED.search(check.password).group(0).split('{')[0]}{{...}})"
            )
            continue
        if check.password.startswith(SECRET_ALIAS_PREFIX):
            warnings.append(f"validate_stores: {check.what} ({check.location}) was not opened: its password is a secure vault alias")
            continue
        if os.path.isabs(check.location):
            path = os.path.normpath(check.location)
        elif home is not None:
            path = resolve_location(home, check.location)
        else:
            unresolved.append(check.location)
            continue
        try:
            declared = normalize_store_type(check.store_type)
        except TruststoreError:
            warnings.append(f"validate_stores: {check.what} ({path}) was not opened: type '{check.store_type}' is not JKS, JCEKS or PKCS12")
            continue
        try:
            store = load_truststore(path, check.password, "auto", kind="keystore" if "keystore" in check.what else "truststore",
                                    open_only=True)
        except TruststoreError as exc:
            raise SslProfileError(f"validate_stores: {check.what} cannot be opened: {exc}; nothing was written") from None
        if declared not in ("auto", store.store_type):
            if (declared, store.store_type) in _TYPE_COMPATIBLE:
                warnings.append(
                    f"validate_stores: {check.what} ({path}) is a {store.store_type} store but its type says {declared}; "
                    "Java reads it anyway"
                )
            else:
                raise SslProfileError(
                    f"validate_stores: {check.what} ({path}) is a {store.store_type} store but its type says "
                    f"{declared}; Java cannot open it as {declared}; nothing was written"
                )
    if unresolved:
        warnings.append(
            f"validate_stores: {', '.join(sorted(set(unresolved)))} not opened: relative locations resolve against the "
            f"API-M home, which is unknown for {plan.current.deployment_toml} (use apim_home, or keep the file at "
            "<home>/repository/conf/deployment.toml)"
        )
    return warnings
