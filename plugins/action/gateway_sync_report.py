# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin (controller only) of apim.certificates.gateway_sync_report; documented in plugins/modules/gateway_sync_report.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.apim.certificates.plugins.plugin_utils import _artifact, _fleet
from ansible_collections.apim.certificates.plugins.plugin_utils import _metrics, _report_data, _report_html


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("hosts", "result_var", "profiles_var", "expiring_within_days", "fail_on_drift", "fail_on_untrusted",
                             "artifact", "report_html", "metrics_path", "check_paths"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self._task.args
        paths = self._report_paths(args)
        if boolean(args.get("check_paths", False), strict=False):
            # the role's early check (before any node is converged): only that the report files can be written
            result.update(changed=False, msg="the report files can be written", paths=paths)
            return result
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
        if paths:
            result["report_files"] = self._write_reports(paths, task_vars, hosts, result_var, report, expiring_within_days)
        if report["warnings"]:
            result["warnings"] = list(result.get("warnings") or []) + report["warnings"]
        result.update(changed=False, ansible_facts=facts)
        return result

    @staticmethod
    def _report_paths(args) -> dict:
        """{report_html, metrics_path}: the absolute paths asked for, each in an existing writable folder."""
        paths = {}
        for name in ("report_html", "metrics_path"):
            value = args.get(name)
            if value in (None, ""):
                continue
            try:
                paths[name] = _report_data.check_path(value, f"{name} ({value!r})" if isinstance(value, str) else name)
            except _report_data.ReportPathError as exc:
                raise AnsibleActionFail(str(exc)) from None
        return paths

    def _write_reports(self, paths, task_vars, hosts, result_var, report, expiring_within_days) -> dict:
        """Write the HTML report and the metrics on the controller (temporary file, then rename). Under serial they
        cover the play's batches so far (the earlier batches' hosts keep their registered results)."""
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel

        hostvars = task_vars.get("hostvars") or {}
        results = _report_data.results_for_files(hostvars, hosts, task_vars.get("ansible_play_hosts_all"), result_var)
        if set(results) != set(hosts):
            report = _fleet.report(results, None, expiring_within_days)
        view = _report_data.build(results, report, expiry_warn_days=expiring_within_days, ansible_version=ansible_version,
                                  check_mode=bool(task_vars.get("ansible_check_mode", self._play_context.check_mode)))
        written = {}
        for name, render in (("report_html", _report_html.render), ("metrics_path", _metrics.render)):
            if name in paths:
                try:
                    _report_data.write_atomic(paths[name], render(view))
                except OSError as exc:
                    raise AnsibleActionFail(f"{name}: cannot write {paths[name]} on the controller: {exc.strerror or exc}") from None
                written[name] = paths[name]
        return written
