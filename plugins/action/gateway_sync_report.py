# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin (controller only) of apim.certificates.gateway_sync_report; documented in plugins/modules/gateway_sync_report.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact, _fleet


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("hosts", "result_var", "profiles_var", "expiring_within_days", "fail_on_drift", "fail_on_untrusted",
                             "artifact"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self._task.args
        hosts = args.get("hosts")
        if hosts is None:
            hosts = task_vars.get("ansible_play_batch") or []
        if isinstance(hosts, str) or not all(isinstance(h, str) for h in hosts):
            raise AnsibleActionFail("hosts must be a list of inventory hostnames")
        result_var = args.get("result_var", "gateway_sync_result")
        profiles_var = args.get("profiles_var", "gateway_sync_profiles")
        try:
            expiring_within_days = int(args.get("expiring_within_days", 30))
        except (TypeError, ValueError):
            raise AnsibleActionFail(f"expiring_within_days must be a whole number of days, not {args.get('expiring_within_days')!r}") from None
        hostvars = task_vars.get("hostvars") or {}
        results, profiles, missing = {}, {}, []
        for host in hosts:
            node_vars = hostvars.get(host) if hasattr(hostvars, "get") else None
            node = node_vars.get(result_var) if node_vars is not None and result_var in node_vars else None
            if not isinstance(node, dict) or "before" not in node:
                missing.append(host)
                continue
            results[host] = node
            # gateway_sync_node returns the SSL-profile result inside the node's result; a separate task registers it
            profile = node.get("ssl_profile")
            if profile is None and profiles_var and profiles_var in node_vars:
                profile = node_vars.get(profiles_var)
            if isinstance(profile, dict):
                profiles[host] = profile
        if missing:
            raise AnsibleActionFail(
                f"no apim.certificates.gateway_trust result registered as '{result_var}' for {', '.join(missing)}: "
                "run gateway_trust on every host of the batch first, or name the hosts that ran it in hosts"
            )
        try:
            flags = {name: boolean(args.get(name, False), strict=True) for name in ("fail_on_drift", "fail_on_untrusted", "artifact")}
        except TypeError as exc:
            raise AnsibleActionFail(f"fail_on_drift, fail_on_untrusted and artifact must be booleans: {exc}") from None
        artifact = flags.pop("artifact")
        report = _fleet.report(results, profiles, expiring_within_days, **flags)
        facts = {"gateway_sync_report": report, "gateway_sync_summary": report["summary"]}
        if artifact:
            # Under serial, the artifact includes the previous batches' (which the hosts of those batches carry).
            previous = [hostvars[host]["gateway_sync_artifact"] for host in task_vars.get("ansible_play_hosts_all") or []
                        if host not in hosts and "gateway_sync_artifact" in hostvars[host]]
            facts["gateway_sync_artifact"] = _artifact.build(
                report["summary"], drift=report["drift"], not_in_source=report["not_in_source"], previous=previous,
                check_mode=bool(task_vars.get("ansible_check_mode", self._play_context.check_mode)),
                nodes=list(hosts))
            # what ansible.builtin.set_stats publishes (per_host=false, aggregate=false): AWX reads it as a job artifact
            result["ansible_stats"] = {"data": {"gateway_sync": facts["gateway_sync_artifact"]}, "per_host": False, "aggregate": False}
        if report["warnings"]:
            result["warnings"] = list(result.get("warnings") or []) + report["warnings"]
        result.update(changed=False, ansible_facts=facts)
        return result
