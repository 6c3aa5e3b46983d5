# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gateway_sync role's HTML report: one self-contained page (inline CSS, no script, no font, no image, nothing
fetched), rendered on the controller with Jinja2 with autoescaping on, from a report view (_report_data.build).

Every cell has a text label as well as a colour, so the page reads without colour (and in a text browser). It holds
what the view holds: node names, aliases, fingerprints, subjects, dates and verdicts; no password and no PEM block.
"""

from __future__ import annotations

import datetime

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="apim.certificates {{ produced.version }}">
<title>Gateway trust report {{ produced.at_text }}</title>
<style>
:root { --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #b42318; --bad-bg: #fee4e2; --warn: #8a5a00; --warn-bg: #fff1c2;
        --stock: #475467; --stock-bg: #eaecf0; --line: #d0d5dd; --ink: #101828; --muted: #475467; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; background: #f9fafb; }
header { background: #0b2545; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 6px; font-size: 20px; }
header dl { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 0; }
header dt { opacity: .75; } header dd { margin: 0 0 0 4px; font-weight: 600; }
header .pair { display: flex; }
main { padding: 8px 24px 32px; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 16px 0; overflow-x: auto; }
h2 { font-size: 16px; margin: 4px 0 10px; }
.badges { display: flex; gap: 8px; flex-wrap: wrap; margin: 12px 0 0; }
.badge { border-radius: 999px; padding: 2px 10px; font-weight: 600; border: 1px solid currentColor; }
.good { color: var(--ok); background: var(--ok-bg); } .bad { color: var(--bad); background: var(--bad-bg); }
.warn { color: var(--warn); background: var(--warn-bg); } .neutral { color: var(--stock); background: var(--stock-bg); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; text-align: left; }
#trust td { max-width: 520px; }
#trust .store { white-space: normal; }
th { background: #f2f4f7; font-weight: 600; }
th.drift-col { background: var(--warn-bg); }
td.cell { min-width: 150px; }
.store { display: block; border-radius: 4px; padding: 1px 6px; margin: 2px 0; white-space: nowrap; }
.s-present { color: var(--ok); background: var(--ok-bg); }
.s-missing, .s-different, .s-unwanted { color: var(--bad); background: var(--bad-bg); }
.s-absent, .s-stock { color: var(--stock); background: var(--stock-bg); }
.store.drift { outline: 2px dashed var(--warn); font-weight: 600; }
.store .was { font-weight: 400; color: var(--warn); }
.legend { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 0; color: var(--muted); }
.legend span.store { display: inline-block; }
.timeline { position: relative; min-width: 760px; padding-bottom: 24px; }
.axis { position: relative; height: 22px; margin-left: 340px; border-bottom: 1px solid var(--ink); color: var(--muted); font-size: 12px; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.rows { position: relative; }
.row { display: flex; align-items: center; min-height: 26px; border-bottom: 1px solid #eef0f3; }
.row .label { width: 340px; flex: none; padding-right: 8px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row .track { position: relative; flex: 1; height: 22px; }
.marker { position: absolute; top: 3px; transform: translateX(10px); border-radius: 4px; padding: 0 6px; font-size: 12px;
         white-space: nowrap; border: 1px solid currentColor; }
.marker.end { transform: translateX(calc(-100% - 10px)); }
.dot { position: absolute; top: 6px; width: 12px; height: 12px; margin-left: -6px; border-radius: 50%; border: 2px solid currentColor; background: #fff; }
.t-ok { color: var(--ok); background: var(--ok-bg); } .t-expiring { color: var(--warn); background: var(--warn-bg); }
.t-expired { color: var(--bad); background: var(--bad-bg); }
.vline { position: absolute; top: 0; bottom: 0; border-left: 2px solid var(--ink); pointer-events: none; }
.vline.horizon { border-left: 2px dashed var(--warn); }
.vline b { position: absolute; bottom: -20px; left: 4px; font-size: 12px; white-space: nowrap; background: #fff; }
.overlay { position: absolute; top: 0; bottom: 0; left: 340px; right: 0; }
.kind { color: var(--muted); font-size: 12px; }
.t-trusted { color: var(--ok); background: var(--ok-bg); } .t-untrusted { color: var(--bad); background: var(--bad-bg); font-weight: 600; }
footer, .note { color: var(--muted); font-size: 12px; }
code { font-size: 12px; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>Gateway trust report</h1>
<dl>
<div class="pair"><dt>Produced</dt><dd id="produced-at">{{ produced.at_text }}</dd></div>
<div class="pair"><dt>Run</dt><dd id="run-mode">{{ "check mode (audit: nothing written)" if produced.check_mode else "real run" }}</dd></div>
<div class="pair"><dt>Nodes</dt><dd id="node-count">{{ nodes | length }}</dd></div>
<div class="pair"><dt>Warning horizon</dt><dd id="horizon">{{ produced.expiry_warn_days }} days ({{ produced.horizon_text }})</dd></div>
<div class="pair"><dt>Collection</dt><dd id="collection-version">apim.certificates {{ produced.version }}</dd></div>
{% if produced.ansible_version %}<div class="pair"><dt>Ansible</dt><dd>{{ produced.ansible_version }}</dd></div>{% endif %}
</dl>
<div class="badges">
{% if drifted %}<span class="badge bad" id="status-drift">drift found</span>{% else %}<span class="badge good" id="status-drift">no drift</span>
{% endif %}
{% if untrusted %}<span class="badge bad" id="status-trust">{{ untrusted }} untrusted endpoint check{{ "s" if untrusted != 1 }}</span>{% else %}<span
class="badge good" id="status-trust">every endpoint trusted</span>{% endif %}
{% if expiring %}<span class="badge warn" id="status-expiry">{{ expiring }} expiring or expired</span>{% else %}<span
class="badge good" id="status-expiry">nothing expires within the horizon</span>{% endif %}
<span class="badge neutral">{{ changed | length }} node{{ "s" if changed | length != 1 }} {{ "would change" if produced.check_mode else "changed" }}</span>
</div>
</header>
<main>
<section id="matrix-section">
<h2>Certificates per node</h2>
<p class="note">Each cell shows the live and the persistent truststore {{ "as a run would leave them" if produced.check_mode else "after the run" }};
a dashed outline marks drift (what the store held before the run differed), with what it held then.</p>
{% if columns %}
<table id="matrix">
<thead><tr><th scope="col">node</th>
{% for column in columns %}<th scope="col" class="{{ 'drift-col' if column.drift }}" data-alias="{{ column.alias }}"
data-drift="{{ 'true' if column.drift else 'false' }}">{{ column.alias }}<br><span class="kind">{{ column.source }}{% if column.drift %}, drift
{% endif %}</span></th>
{% endfor %}</tr></thead>
<tbody>
{% for node in nodes %}<tr data-node="{{ node }}"><th scope="row">{{ node }}</th>
{% for column in columns %}<td class="cell" data-node="{{ node }}" data-alias="{{ column.alias }}">
{% for role, cell in column.cells[node].items() %}<span class="store s-{{ cell.after }}{{ ' drift' if cell.drift }}" data-role="{{ role }}"
data-state="{{ cell.after }}" data-before="{{ cell.before }}" data-drift="{{ 'true' if cell.drift else 'false' }}"
title="{{ cell.fingerprint or 'not held' }}">{{ role }}: {{ cell.after }}{% if cell.drift %} <span class="was">(drift: was {{ cell.before }})</span>
{% endif %}</span>
{% endfor %}</td>
{% endfor %}</tr>
{% endfor %}</tbody>
</table>
<div class="legend"><span class="store s-present">present: the fleet's certificate</span><span class="store s-missing">missing</span><span
class="store s-different">different: another certificate</span><span class="store s-stock">stock (WSO2's, the JDK's, the Publisher's)</span><span
class="store s-absent">absent, as asked</span><span class="store s-unwanted">unwanted: asked to be absent</span></div>
{% else %}<p>No certificate was named or held.</p>{% endif %}
</section>
<section id="timeline-section">
<h2>Expiry timeline</h2>
<p class="note">Trusted certificates the results date (those the run names, expiring or dropped ones),
the gateways' own key pairs and the leaves the declared endpoints serve. The dashed line is the warning horizon.</p>
{% if events %}
<div class="timeline" id="timeline">
<div class="axis">{% for tick in ticks %}<span style="left: {{ tick.pct }}%">{{ tick.text }}</span>{% endfor %}</div>
<div class="rows">
<div class="overlay"><div class="vline now" style="left: {{ now_pct }}%"><b>now</b></div><div class="vline horizon" id="horizon-line"
style="left: {{ horizon_pct }}%"><b>warning horizon: {{ produced.expiry_warn_days }} days</b></div></div>
{% for event in events %}<div class="row event" data-kind="{{ event.kind }}" data-name="{{ event.name }}" data-node="{{ event.node }}"
data-not-after="{{ event.not_after }}" data-status="{{ event.status }}">
<div class="label" title="{{ event.subject }}"><span class="kind">{{ event.kind }}</span> <b>{{ event.name }}</b> on {{ event.node }}</div>
<div class="track"><span class="dot t-{{ event.status }}" style="left: {{ event.pct }}%" title="{{ event.not_after }}"></span><span
class="marker t-{{ event.status }}{{ ' end' if event.pct > 60 }}"
style="left: {{ event.pct }}%">{{ event.date_text }} · {{ event.status }} ({{ event.days_text }})</span></div>
</div>
{% endfor %}</div>
</div>
{% else %}<p>No dated certificate in the results.</p>{% endif %}
</section>
<section id="trust-section">
<h2>Trust checks</h2>
{% if endpoints %}
<table id="trust">
<thead><tr><th scope="col">node</th>{% for endpoint in endpoints %}<th scope="col">{{ endpoint }}</th>{% endfor %}</tr></thead>
<tbody>
{% for node in nodes %}<tr data-node="{{ node }}"><th scope="row">{{ node }}</th>
{% for endpoint in endpoints %}{% set check = trust.get(node, {}).get(endpoint) %}<td data-node="{{ node }}" data-endpoint="{{ endpoint }}"
data-trusted="{{ 'none' if check is none else ('true' if check.trusted else 'false') }}">
{% if check is none %}<span class="store s-absent">not checked</span>{% elif check.trusted %}<span class="store t-trusted">trusted
{% if check.anchor %} through {{ check.anchor }}{% endif %}{% if check.trusted_by == 'leaf' %} (the leaf itself){% endif %}</span>{% else %}<span
class="store t-untrusted">NOT trusted: {{ check.reason }}</span>{% endif %}
</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% else %}<p>No endpoint was declared, so nothing was checked.</p>{% endif %}
</section>
<footer>
<p>Written by the apim.certificates.gateway_sync role (gateway_sync_report_html) on the controller.
It holds node names, aliases, fingerprints, subjects, dates and verdicts: no password, no certificate, no file content.
Certificates that the run neither names nor finds expiring within the horizon have no date in the nodes' results and are not on the timeline.</p>
</footer>
</main>
</body>
</html>
"""


def _text(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _days(days: int) -> str:
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} ago"
    return f"{days} day{'s' if days != 1 else ''} left"


def render(view: dict) -> str:
    """The page for a report view (_report_data.build)."""
    import jinja2  # pylint: disable=import-outside-toplevel

    produced = dict(view["produced"])
    now, horizon = produced["at"], produced["horizon"]
    produced.update(at_text=_text(now), horizon_text=horizon.strftime("%Y-%m-%d"))
    events = [dict(e) for e in view["events"]]
    times = [e["when"] for e in events] + [now, horizon]
    start, end = min(times), max(times)
    span = (end - start) or datetime.timedelta(days=1)
    start, end = start - span * 0.06, end + span * 0.10
    span = end - start

    def pct(when):
        return round(max(0.0, min(100.0, (when - start) / span * 100)), 2)

    for event in events:
        event.update(pct=pct(event["when"]), date_text=event["when"].strftime("%Y-%m-%d"), days_text=_days(event["days_remaining"]))
    ticks = [{"pct": round(i * 100 / 5, 2), "text": (start + span * (i / 5)).strftime("%Y-%m-%d")} for i in range(1, 5)]
    untrusted = sum(1 for checks in view["trust"].values() for check in checks.values() if not check["trusted"])
    expiring = sum(1 for e in events if e["status"] != "ok")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    template = env.from_string(TEMPLATE)
    return template.render(
        produced=produced, nodes=view["nodes"], columns=view["columns"], drifted=view["drifted"], events=events,
        ticks=ticks, now_pct=pct(now), horizon_pct=pct(horizon), trust=view["trust"], endpoints=view["endpoints"],
        changed=view["changed"], untrusted=untrusted, expiring=expiring,
    )
