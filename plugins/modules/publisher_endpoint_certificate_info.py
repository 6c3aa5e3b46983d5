#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: publisher_endpoint_certificate_info
short_description: List the endpoint certificates the API-M Publisher holds, and the APIs that use them
version_added: 0.1.0
description:
  - Lists the backend (endpoint) certificates of the WSO2 API Manager Publisher through its REST API, every page of
    them, each with its endpoint, status, subject, validity (ISO 8601), the SHA-256 fingerprint of what the Publisher
    serves and the APIs that use it.
  - Never changes anything. The token asked for holds only a view scope.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.publisher
  - apim.certificates.attributes.info_module
options:
  alias:
    description:
      - Only the certificate with this alias (exact).
    type: str
  endpoint:
    description:
      - Only the certificates for this endpoint (exact). With O(alias), only a certificate matching both.
    type: str
  usage:
    description:
      - Report the APIs that use each certificate (one more call per certificate; the C(/usage) resource exists
        with O(api_version=v4) only, RV(certificates[].apis) is null otherwise).
    type: bool
    default: true
seealso:
  - module: apim.certificates.publisher_endpoint_certificate
  - module: apim.certificates.truststore_info
"""

EXAMPLES = r"""
- name: What the Publisher holds
  apim.certificates.publisher_endpoint_certificate_info:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: admin
    password: "{{ apim_admin_password }}"
  register: publisher_certs
  delegate_to: localhost
  run_once: true

- name: Certificates the Publisher reports as expired
  ansible.builtin.debug:
    msg: "{{ publisher_certs.certificates | selectattr('status', 'equalto', 'expired') | map(attribute='alias') }}"
"""

RETURN = r"""
certificates:
  description: The certificates matching the filters, in the Publisher's order.
  returned: always
  type: list
  elements: dict
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
      description: The Publisher's status, lower-case (V(active) or V(expired)).
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
    apis:
      description: The APIs that use the certificate (id, name, version, context, provider); null when not asked for
        or not available (O(api_version) before V(v4)).
      type: list
      elements: dict
count:
  description: The number of certificates in RV(certificates).
  returned: always
  type: int
  sample: 2
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
    report,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_OPTIONS,
            alias=dict(type="str"),
            endpoint=dict(type="str"),
            usage=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
        **CONNECTION_RULES,
    )
    params = module.params
    try:
        certificates = report(connect_with(params), alias=params["alias"], endpoint=params["endpoint"],
                              usage=params["usage"])
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    exit_json(module, changed=False, certificates=certificates, count=len(certificates))


if __name__ == "__main__":
    main()
