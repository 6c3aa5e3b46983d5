#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/gateway_sync_node.py): the controller reads the
# role's variables, then runs apim.certificates.ssl_profile (when asked for) and apim.certificates.gateway_trust.

from __future__ import annotations

DOCUMENTATION = r"""
module: gateway_sync_node
short_description: The gateway_sync role's step for one node (SSL profiles, then trusted certificates), as one task
version_added: 0.2.0
description:
  - Reads the M(apim.certificates.gateway_sync) role's variables as given (AWX survey answers arrive as text, that
    is booleans, numbers, and lists or mappings as YAML or JSON), validates them against the role's argument
    specification, then runs on the node M(apim.certificates.ssl_profile) when C(gateway_sync_ssl_profile) is set,
    and M(apim.certificates.gateway_trust).
  - One task per node instead of four (read the variables, a skipped SSL-profile task, the trust task), because every
    task costs each host a worker process on the controller, skipped or not.
  - Meant for the role. Outside it, use M(apim.certificates.gateway_trust) and M(apim.certificates.ssl_profile).
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.attributes
  - apim.certificates.attributes.action
options:
  variables:
    description:
      - The role's variables as given, by name (C(gateway_sync_certificates), C(gateway_sync_ssl_profile), and so
        on). The role passes C(gateway_sync__given). Each may be text as an AWX survey sends it.
      - C(gateway_sync_ssl_profile) may hold passwords. They go to M(apim.certificates.ssl_profile) only, and are
        never part of the result.
    type: dict
    required: true
  apim_home:
    description: The API-M installation directory of the gateway node.
    type: path
    required: true
  password:
    description: The truststore password (M(apim.certificates.gateway_trust)'s O(apim.certificates.gateway_trust#module:password)).
    type: str
  certificates:
    description:
      - The certificates to converge when C(gateway_sync_source) is V(primary) (read from the primary node). Ignored
        otherwise, where C(gateway_sync_certificates) is used.
    type: list
    elements: dict
  python:
    description:
      - The Python to run the modules with. Defaults to C(gateway_sync_python), else the node's interpreter as the
        inventory or the configuration gives it.
    type: str
seealso:
  - module: apim.certificates.gateway_trust
  - module: apim.certificates.ssl_profile
  - module: apim.certificates.gateway_sync_report
"""

EXAMPLES = r"""
# What the gateway_sync role runs for each node (roles/gateway_sync/tasks/main.yml).
- name: Converge the node
  apim.certificates.gateway_sync_node:
    variables:
      gateway_sync_certificates: |
        - alias: orders-backend
          endpoint: https://orders.internal:8443/
          fingerprint: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
      gateway_sync_prune: "false"
    apim_home: /opt/wso2am-4.2.0
  register: gateway_sync_result
"""

RETURN = r"""
changed:
  description: Whether a store or an SSL profile changed (in check mode, would change).
  returned: always
  type: bool
ssl_profile:
  description: The M(apim.certificates.ssl_profile) result (without its C(invocation)), when C(gateway_sync_ssl_profile) is set.
  returned: when C(gateway_sync_ssl_profile) is set
  type: dict
before:
  description: M(apim.certificates.gateway_trust)'s RV(apim.certificates.gateway_trust#module:before).
  returned: when the trust step ran
  type: dict
after:
  description: M(apim.certificates.gateway_trust)'s RV(apim.certificates.gateway_trust#module:after).
  returned: when the trust step ran
  type: dict
results:
  description: M(apim.certificates.gateway_trust)'s RV(apim.certificates.gateway_trust#module:results).
  returned: when the trust step ran
  type: list
  elements: dict
trust_checks:
  description: M(apim.certificates.gateway_trust)'s RV(apim.certificates.gateway_trust#module:trust_checks).
  returned: when the trust step ran
  type: list
  elements: dict
listener:
  description:
    - M(apim.certificates.gateway_trust)'s RV(apim.certificates.gateway_trust#module:listener), with
      C(gateway_sync_listener_certificates) or C(gateway_sync_listener_checks).
  returned: when the listener side was asked for
  type: dict
key_pairs:
  description:
    - One item per C(gateway_sync_key_pairs) entry, as M(apim.certificates.endpoint_keystore) left it - C(alias),
      C(endpoint), C(action), C(fingerprint) (SHA-256 of the certificate presented now), C(previous_fingerprint),
      C(not_after) and C(profile). Never the key.
  returned: when the key-pair step ran
  type: list
  elements: dict
"""
