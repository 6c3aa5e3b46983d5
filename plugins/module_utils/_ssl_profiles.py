# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ssl_profile's service: load both files, plan the change, validate the stores, write, under locks.

Shape: ``load`` (_ssl_profiles_load: Current) -> ``plan_changes(current, request)`` (_ssl_profiles_plan: Plan) ->
``validate_stores`` (_ssl_profiles_validate) -> ``apply_plan`` (here); ``converge`` runs them under the locks of both
files' directories. These modules only orchestrate: the request is _ssl_profile_request's, WSO2's reading of
deployment.toml _wso2_config's, the TOML edits _toml_splice's, the sslprofiles.xml model _sslprofiles_xml's and the
masking of the diff _masking's. The names of the sections are re-exported here, ssl_profile's one entry point.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat

from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    GatewayConfigError,
    SslProfileError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import (
    denied,
    locked,
    touch,
    write_atomic,
    write_problem,
)
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profile_request import Request
from ansible_collections.apim.certificates.plugins.module_utils._sslprofiles_xml import XML_NEW_FILE_MODE
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles_load import Current, load  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles_plan import (  # noqa: F401  # pylint: disable=unused-import
    Plan,
    plan_changes,
    prune_empty,
)
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles_validate import validate_stores  # noqa: F401  # pylint: disable=unused-import


# --- apply ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    plan: Plan
    warnings: list
    backup_file: str | None = None
    sslprofiles_backup_file: str | None = None

    def result(self, diff: bool = False) -> dict:
        plan = self.plan
        out = {
            "changed": plan.changed,
            "deployment_toml": plan.current.deployment_toml,
            "deployment_toml_changed": plan.toml_changed,
            "sslprofiles_path": plan.current.sslprofiles_path,
            "sslprofiles_changed": plan.xml_changed,
            "profiles": [p.facts() for p in plan.profiles],
            "actions": plan.actions,
            "interval": plan.interval,
            "reload_within_ms": plan.reload_within_ms,
            "restart_required": plan.restart_required,
        }
        if self.backup_file:
            out["backup_file"] = self.backup_file
        if self.sslprofiles_backup_file:
            out["sslprofiles_backup_file"] = self.sslprofiles_backup_file
        if diff:
            out["diff"] = plan.diff()
        return out


def apply_plan(plan: Plan, *, backup: bool = False) -> Outcome:
    """Write deployment.toml, then sslprofiles.xml; if the second write fails, the first is undone."""
    outcome = Outcome(plan, list(plan.warnings))
    current = plan.current
    if plan.toml_changed:
        outcome.backup_file = write_atomic(current.deployment_toml, plan.new_text.encode("utf-8"), backup=backup)
    if plan.xml_changed:
        path = current.sslprofiles_path
        before = os.stat(path).st_mtime if current.xml_bytes is not None else None
        try:
            outcome.sslprofiles_backup_file = write_atomic(path, plan.new_xml, backup=backup, new_mode=XML_NEW_FILE_MODE)
            if before is not None and os.stat(path).st_mtime <= before:
                touch(path)  # the gateway reloads only on a newer modification time
        except Exception as exc:  # noqa: BLE001 - whatever failed, deployment.toml must not stay half-changed
            reason = str(exc) if isinstance(exc, ApimCertificatesError) else f"{type(exc).__name__}: {exc}"
            if plan.toml_changed:
                try:
                    write_atomic(current.deployment_toml, current.toml_bytes)
                except ApimCertificatesError as undo:
                    raise SslProfileError(
                        f"{reason}; restoring {current.deployment_toml} failed too ({undo})"
                        + (f"; its original is in {outcome.backup_file}" if outcome.backup_file else "")
                    ) from None
                if outcome.backup_file:
                    with contextlib.suppress(OSError):
                        os.unlink(outcome.backup_file)
                raise SslProfileError(f"{reason}; {current.deployment_toml} was restored to its original content") from None
            raise SslProfileError(reason) from None
    return outcome


def converge(request: Request, *, check_mode: bool = False, backup: bool = False) -> Outcome:
    """load -> plan -> validate -> apply, under the locks of both files' directories (none in check mode)."""
    if request.apim_home is not None and not os.path.isdir(request.apim_home):
        raise GatewayConfigError(f"apim_home {os.path.abspath(request.apim_home)} is not a directory")
    try:
        if not stat.S_ISREG(os.stat(request.deployment_toml).st_mode):
            raise GatewayConfigError(f"{request.deployment_toml} is not a file")
    except FileNotFoundError:
        raise GatewayConfigError(f"{request.deployment_toml} does not exist or is not a file") from None
    except PermissionError:  # a folder on the way that this account may not enter (API-M homes are often 0750)
        raise GatewayConfigError(denied("read", "deployment.toml", request.deployment_toml)) from None
    except OSError as exc:
        raise GatewayConfigError(f"cannot read deployment.toml {request.deployment_toml}: {exc.strerror}") from None
    with contextlib.ExitStack() as stack:
        if not check_mode:
            stack.enter_context(locked(request.deployment_toml))
        current = Current.load_toml(request)
        if current.sslprofiles_path is not None and not check_mode:
            stack.enter_context(locked(current.sslprofiles_path))
        current.load_xml()
        plan = plan_changes(current, request)
        warnings = []
        if plan.changed and request.validate_stores:
            warnings = validate_stores(plan)
        # what the real run would write must be writable by this account: checked first, in check mode too
        for changed, path, what in ((plan.toml_changed, current.deployment_toml, "deployment.toml"),
                                    (plan.xml_changed, current.sslprofiles_path, "sslprofiles.xml")):
            problem = write_problem(path, what) if changed else None
            if problem:
                raise GatewayConfigError(problem)
        if check_mode or not plan.changed:
            outcome = Outcome(plan, list(plan.warnings))
        else:
            outcome = apply_plan(plan, backup=backup)
        outcome.warnings.extend(warnings)
        return outcome
