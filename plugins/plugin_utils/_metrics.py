# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gateway_sync role's Prometheus metrics, in the text exposition format the node_exporter textfile collector
reads: one file on the controller for the whole fleet, every series labelled with the gateway's inventory hostname
(``node``). docs/report.md documents the design and every metric.

The certificate metrics use x509-certificate-exporter's names and labels (x509_cert_not_after, x509_cert_expired;
filepath, subject_CN, issuer_CN, serial_number for trusted certificates, from gateway_trust's certificates facts), so
that dashboards and alerts written for it work; alias and role (the store: live, persistent, live+persistent,
keystore) are added. What is this collection's own has the apim_ prefix.
"""

from __future__ import annotations

import datetime

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def _number(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _seconds(when: datetime.datetime) -> int:
    return int((when - _EPOCH).total_seconds())


class _Families:
    def __init__(self):
        self.order, self.meta, self.samples = [], {}, {}

    def family(self, name: str, kind: str, helptext: str):
        if name not in self.meta:
            self.order.append(name)
            self.meta[name] = (kind, helptext)
            self.samples[name] = []

    def add(self, name: str, labels: dict, value):
        line = f"{name}{_labels(labels)} {_number(value)}"
        if line not in self.samples[name]:
            self.samples[name].append(line)

    def text(self) -> str:
        out = []
        for name in self.order:
            kind, helptext = self.meta[name]
            out.append(f"# HELP {name} {helptext}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(self.samples[name])
        return "\n".join(out) + "\n"


def render(view: dict) -> str:
    """The metrics of a report view (_report_data.build), as textfile-collector text."""
    produced = view["produced"]
    now = produced["at"]
    fam = _Families()
    fam.family("x509_cert_not_after", "gauge", "Certificate expiry, as seconds since the epoch (x509-certificate-exporter's name).")
    fam.family("x509_cert_expired", "gauge", "1 when the certificate has expired (x509-certificate-exporter's name).")
    fam.family("apim_gateway_alias_in_sync", "gauge",
               "1 when every store of every node held the same certificate under the alias before the run (no drift).")
    fam.family("apim_gateway_alias_present", "gauge", "1 when the node's store holds the fleet's certificate under the alias after the run.")
    fam.family("apim_gateway_node_changed", "gauge", "1 when the run changed the node (in check mode: would change it).")
    fam.family("apim_gateway_endpoint_trusted", "gauge", "1 when the node trusts the declared endpoint (its trust check after the run).")
    fam.family("apim_gateway_served_leaf_not_after_seconds", "gauge",
               "Expiry of the leaf certificate the declared endpoint serves, as seen from the node, in seconds since the epoch.")
    fam.family("apim_gateway_sync_expiry_warning_seconds", "gauge", "The warning horizon (gateway_sync_expiry_warn_days), in seconds.")
    fam.family("apim_gateway_sync_check_mode", "gauge", "1 when the last run was a check (an audit that wrote nothing).")
    fam.family("apim_gateway_sync_nodes", "gauge", "The number of nodes the last run covered.")
    fam.family("apim_gateway_sync_last_run_timestamp_seconds", "gauge", "When the last gateway_sync run compared the nodes, in seconds since the epoch.")

    for event in view["events"]:
        if event["kind"] == "served leaf":
            labels = {"node": event["node"], "endpoint": event["endpoint"], "subject_CN": event["subject_cn"], "issuer_CN": event["issuer_cn"]}
            fam.add("apim_gateway_served_leaf_not_after_seconds", labels, _seconds(event["when"]))
            continue
        for role, path in event.get("stores") or []:
            labels = {"node": event["node"], "filepath": path, "alias": event["alias"], "role": role,
                      "subject_CN": event["subject_cn"], "issuer_CN": event["issuer_cn"]}
            if event.get("serial_number"):
                labels["serial_number"] = event["serial_number"]
            fam.add("x509_cert_not_after", labels, _seconds(event["when"]))
            fam.add("x509_cert_expired", labels, event["when"] <= now)
    for column in view["columns"]:
        if column["source"] == "named":
            fam.add("apim_gateway_alias_in_sync", {"alias": column["alias"]}, not column["drift"])
            for node, cells in column["cells"].items():
                for role, cell in cells.items():
                    path = view["stores"].get(node, {}).get(role, "")
                    fam.add("apim_gateway_alias_present", {"node": node, "alias": column["alias"], "role": role, "filepath": path},
                            cell["after"] == "present")
    for node in view["nodes"]:
        fam.add("apim_gateway_node_changed", {"node": node}, node in view["changed"])
    for node, checks in sorted(view["trust"].items()):
        for endpoint, check in sorted(checks.items()):
            fam.add("apim_gateway_endpoint_trusted", {"node": node, "endpoint": endpoint}, check["trusted"])
    fam.add("apim_gateway_sync_expiry_warning_seconds", {}, produced["expiry_warn_days"] * 86400)
    fam.add("apim_gateway_sync_check_mode", {}, produced["check_mode"])
    fam.add("apim_gateway_sync_nodes", {}, len(view["nodes"]))
    fam.add("apim_gateway_sync_last_run_timestamp_seconds", {}, _seconds(now))
    return fam.text()
