#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/gateway_sync_report.py): it runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: gateway_sync_report
short_description: Compare the gateway nodes' trust states on the controller (drift, verification, summary)
version_added: 0.2.0
description:
  - Reads the M(apim.certificates.gateway_trust) result each host of O(hosts) registered, and works out, in Python
    on the controller, with one pass over the nodes, what the M(apim.certificates.gateway_sync) role prints and
    judges. The drift report (what each node held before the run, per alias and fingerprint), the cross-node
    verification (every node holds the fingerprint its run reported, in its live and its persistent truststore),
    and the summary.
  - Sets the facts C(gateway_sync_report) and C(gateway_sync_summary). Run it with C(run_once); Ansible then gives
    the facts to every host of the play.
  - Runs no module on the nodes.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.attributes.action
options:
  hosts:
    description: The inventory hostnames to compare. Defaults to C(ansible_play_batch) (the current batch under C(serial)).
    type: list
    elements: str
  result_var:
    description: The variable each host registered the M(apim.certificates.gateway_trust) (or M(apim.certificates.gateway_sync_node)) result in.
    type: str
    default: gateway_sync_result
  profiles_var:
    description:
      - The variable each host registered an M(apim.certificates.ssl_profile) result in, if any (skipped results are ignored).
      - Not read for a host whose O(result_var) holds an C(ssl_profile) result (M(apim.certificates.gateway_sync_node)'s).
    type: str
    default: gateway_sync_profiles
  expiring_within_days:
    description: Shown in the summary next to the certificates that expire soon (each node lists those itself).
    type: int
    default: 30
  fail_on_drift:
    description: List drift (a node whose run changed, or in check mode would change, something) in RV(ansible_facts.gateway_sync_report.failures).
    type: bool
    default: false
  fail_on_untrusted:
    description: List the endpoints a node does not trust in RV(ansible_facts.gateway_sync_report.failures).
    type: bool
    default: false
  artifact:
    description:
      - Also work out the job artifact for AWX workflows (RV(ansible_facts.gateway_sync_artifact); its schema is in the
        role's documentation) and publish it as M(ansible.builtin.set_stats) would, as C(gateway_sync), not per host,
        not aggregated. Under C(serial), it includes the artifacts of the play's earlier batches.
      - It carries no password and no certificate.
    type: bool
    default: false
  report_html:
    description:
      - A file on the controller to write the fleet trust report to, as one self-contained HTML page (inline CSS, no
        script, nothing fetched) with the nodes x certificates matrix (live and persistent store, drift highlighted), an
        expiry timeline with the warning horizon (O(expiring_within_days)), the trust checks per node and endpoint,
        and when and how it was produced. Rendered with Jinja2, autoescaped; no password and no certificate.
      - Written through a temporary file in the same folder and a rename. Under C(serial) it covers the play's
        batches so far. The folder must exist and be writable. Empty or omitted means no report.
    type: str
  metrics_path:
    description:
      - A file on the controller to write Prometheus metrics to, in the node_exporter textfile collector's format,
        one file for the fleet, every series with a C(node) label. Written like O(report_html). See the collection's
        docs/report.md for the metrics.
    type: str
  check_paths:
    description:
      - Only check that O(report_html) and O(metrics_path) can be written (their folders exist and are writable),
        and compare nothing. The role runs this before converging any node.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state. In check mode it compares what the nodes' runs predicted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
  run_once:
    description: Whether it runs once for the play. Use C(run_once); the facts then reach every host.
    support: full
seealso:
  - module: apim.certificates.gateway_trust
"""

EXAMPLES = r"""
- name: Converge each node and report its trust state
  apim.certificates.gateway_trust:
    apim_home: /opt/wso2am-4.2.0
    certificates: "{{ declared_certificates }}"
  register: gateway_sync_result

- name: Compare the nodes
  apim.certificates.gateway_sync_report:
  run_once: true

- name: Show the drift report
  ansible.builtin.debug:
    var: gateway_sync_report.drift
  run_once: true
"""

RETURN = r"""
report_files:
  description: The files written (O(report_html), O(metrics_path)), by option name, as absolute paths.
  returned: when O(report_html) or O(metrics_path) is set
  type: dict
  sample: {"report_html": "/var/lib/awx/reports/gateway-trust.html"}
paths:
  description: With O(check_paths), the paths checked, by option name.
  returned: with O(check_paths)
  type: dict
ansible_facts:
  description: The facts set for every host.
  returned: always
  type: dict
  contains:
    gateway_sync_summary:
      description: The summary, as C(gateway_sync_report.summary).
      type: dict
    gateway_sync_artifact:
      description: With O(artifact), the job artifact (also published with the play's stats as C(gateway_sync)).
      type: dict
      returned: with O(artifact)
    gateway_sync_report:
      description: Everything compared.
      type: dict
      contains:
        drift:
          description:
            - What each node held before the run. C(aliases) maps each alias the run names to C(in_sync) and
              C(fingerprints) (fingerprint or V(absent) -> C(<node> (<store role>)) list); C(drifted) is true when one
              is not in sync; C(duplicates) lists per node the certificates held under several aliases (pairs of
              stock aliases, such as WSO2's C(wso2carbon) = C(gateway_certificate_alias), are not listed).
          type: dict
        not_in_source:
          description: Per node, the aliases (not stock) it held that the source does not name.
          type: dict
        verification:
          description: C(ok), and C(differing) (per alias, which node and store holds what, and what was expected).
          type: dict
        listener_drift:
          description:
            - As RV(ansible_facts.gateway_sync_report.drift), for the HTTPS listener's client-certificate aliases
              (gateway_trust's C(listener_certificates)).
          type: dict
        listener_verification:
          description: As RV(ansible_facts.gateway_sync_report.verification), for the listener's stores.
          type: dict
        summary:
          description:
            - C(nodes), C(nodes_changed), C(certificates) (added, replaced, removed), C(ssl_profiles) (per node, what
              changed), C(trust_checks) (per node, endpoint -> verdict), C(expiring) (per node),
              C(expiring_within_days) and C(reload_within_ms) (per node that changed).
            - For the HTTPS listener, C(listener) (per node, client-certificate alias -> what changed) and
              C(listener_checks) (per node, check name -> V(accepted), or the reason after C(REFUSED)).
            - For backend rotation (docs/user-guide.md, "Backend certificate rotation"), C(served_leaves) (endpoint ->
              the served leaf's C(subject), C(issuer), C(not_after), C(days_remaining), C(expiring), C(nodes)),
              C(leaf_only) (endpoint -> nodes trusting a CA-issued leaf only), C(rotation_pending) (endpoint -> C(alias)
              and C(nodes), node -> why) and C(safe_to_remove) (alias -> nodes where no declared endpoint needs it).
          type: dict
        drifting:
          description: The nodes whose run changed (in check mode, would change) a store or an SSL profile.
          type: list
          elements: str
        untrusted:
          description: Per node, the endpoints it does not trust.
          type: dict
        check_mode:
          description: Whether the nodes' runs were in check mode.
          type: bool
        warnings:
          description: The rotation findings in words (rotation pending, safe to remove), also given as task warnings.
          type: list
          elements: str
        failures:
          description:
            - Why the play should fail, in words. Nodes that differ after a run outside check mode; with
              O(fail_on_drift), the nodes that drift; with O(fail_on_untrusted), the endpoints a node does not trust
              and the client certificates a node's listener refuses.
            - This action never fails for these itself, so that the report can be shown first.
          type: list
          elements: str
"""
