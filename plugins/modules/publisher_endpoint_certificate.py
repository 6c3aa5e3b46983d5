#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: publisher_endpoint_certificate
short_description: Add, replace or remove an endpoint certificate through the API-M Publisher REST API
version_added: 0.1.0
description:
  - Makes the WSO2 API Manager Publisher hold, or not hold, a backend (endpoint) certificate under an alias, through
    its REST API, as the Publisher UI's "Endpoint Certificates" page does. API-M 4.x stores it in its database and
    every gateway loads it, now and at each start-up, so it also reaches gateways added later.
  - Idempotent by content. The certificate the Publisher serves for the alias (its DER) and its endpoint are compared
    with the desired ones; nothing is written when they are equal.
  - A different certificate or endpoint is replaced by deleting the alias and adding it again, never by the update
    (PUT) call, which on API-M 4.x rewrites only the Publisher node's truststore while the database and every gateway
    keep the old certificate. If adding fails after the delete, the old certificate is put back and the error says so.
  - An expired certificate is refused before any call, as the Publisher refuses it.
  - For gateways without a control plane, API-M 3.x files, custom SSL profiles or mutual TLS, manage the gateways'
    truststores with M(apim.certificates.endpoint_certificate) instead; see the collection's docs/publisher.md.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.publisher
  - apim.certificates.attributes
options:
  alias:
    description:
      - The alias, 1 to 30 characters. The Publisher's truststore compares aliases case-insensitively, so C(Backend)
        is refused while C(backend) exists.
      - For a tenant, API-M's gateways store the alias as C(<alias>_<tenantId>); give it here without that suffix.
    type: str
    required: true
  endpoint:
    description:
      - The endpoint the certificate is for, as the Publisher stores it (e.g. C(https://orders.internal:8443)).
        Required with O(state=present). A different endpoint under the same alias is a change (a replacement).
    type: str
  certificate:
    description:
      - The certificate, PEM or base64 DER. One certificate, since the Publisher keeps one per alias.
      - Mutually exclusive with O(certificate_path).
    type: str
  certificate_path:
    description:
      - A file holding the certificate (PEM or DER) where the module runs.
    type: path
  state:
    description:
      - V(present) makes the alias hold the certificate; V(absent) removes the alias.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Check mode and diff mode make no write call to the endpoint certificates. A run with O(username) and
    O(password) still registers its OAuth client (DCR, which returns the existing client on later runs) and takes a
    token, since reading needs one.
seealso:
  - module: apim.certificates.publisher_endpoint_certificate_info
  - module: apim.certificates.endpoint_certificate
"""

EXAMPLES = r"""
- name: Register the orders backend's certificate with the Publisher (every gateway picks it up)
  apim.certificates.publisher_endpoint_certificate:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: admin
    password: "{{ apim_admin_password }}"
    alias: orders-backend
    endpoint: https://orders.internal:8443
    certificate: "{{ lookup('ansible.builtin.file', 'files/orders.crt') }}"
  delegate_to: localhost
  run_once: true

- name: Same, with a token issued elsewhere, for a tenant's API-M 4.1
  apim.certificates.publisher_endpoint_certificate:
    publisher_url: https://apim.example.com:9443
    api_version: v3
    token: "{{ publisher_token }}"
    alias: payments-backend
    endpoint: https://payments.internal
    certificate_path: /etc/pki/payments.crt

- name: Remove a retired backend's certificate
  apim.certificates.publisher_endpoint_certificate:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: ops@tenant.example.com
    password: "{{ tenant_ops_password }}"
    alias: retired-backend
    state: absent
"""

RETURN = r"""
action:
  description: V(added), V(replaced), V(removed) or V(unchanged). In check mode, what a real run would do.
  returned: always
  type: str
  sample: added
certificate:
  description:
    - The certificate the Publisher serves for the alias after the run (in check mode, the one it would serve);
      null when the alias is absent.
  returned: always
  type: dict
  contains:
    alias:
      description: The alias.
      type: str
      sample: orders-backend
    endpoint:
      description: The endpoint the Publisher lists for the alias.
      type: str
      sample: https://orders.internal:8443
    status:
      description: The Publisher's status of the certificate, lower-case (V(active) or V(expired)).
      type: str
      sample: active
    subject:
      description: The certificate's subject, as the Publisher gives it.
      type: str
      sample: CN=orders.internal, O=Example
    valid_from:
      description: Start of the validity, UTC, ISO 8601 (converted from the Publisher's Java date).
      type: str
      sample: "2026-01-01T00:00:00Z"
    valid_to:
      description: End of the validity, UTC, ISO 8601.
      type: str
      sample: "2027-01-01T00:00:00Z"
    fingerprint:
      description: SHA-256 fingerprint (keytool's form) of the certificate the Publisher serves.
      type: str
      sample: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
diff:
  description: Before and after (alias, endpoint, fingerprint, subject, valid_to); empty dicts for an absent alias.
  returned: in diff mode
  type: dict
  sample: {"before": {}, "after": {"alias": "orders-backend", "endpoint": "https://orders.internal:8443"}}
"""

from ansible.module_utils.basic import AnsibleModule

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json
from ansible_collections.apim.certificates.plugins.module_utils._publisher import (
    CONNECTION_OPTIONS,
    CONNECTION_RULES,
    connect_with,
    load_desired,
    manage,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_OPTIONS,
            alias=dict(type="str", required=True),
            endpoint=dict(type="str"),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        mutually_exclusive=CONNECTION_RULES["mutually_exclusive"] + [("certificate", "certificate_path")],
        required_together=CONNECTION_RULES["required_together"],
        required_one_of=CONNECTION_RULES["required_one_of"],
        required_if=[("state", "present", ("endpoint",)), ("state", "present", ("certificate", "certificate_path"), True)],
        supports_check_mode=True,
    )
    params = module.params
    try:
        desired = load_desired(alias=params["alias"], state=params["state"], endpoint=params["endpoint"],
                               certificate=params["certificate"], certificate_path=params["certificate_path"])
        result = manage(connect_with(params), desired, check_mode=module.check_mode)
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    diff = result.pop("diff")
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = diff
    exit_json(module, **result)


if __name__ == "__main__":
    main()
