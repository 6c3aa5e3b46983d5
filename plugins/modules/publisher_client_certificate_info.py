#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: publisher_client_certificate_info
short_description: List an API's client certificates (mutual SSL) held by the API-M Publisher
version_added: 0.3.0
description:
  - Lists the client certificates of one API of the WSO2 API Manager Publisher through its REST API, every page of
    them, for both key types (PRODUCTION and SANDBOX) or one, each with its tier, status, subject, validity
    (ISO 8601) and the SHA-256 fingerprint of what the Publisher serves.
  - What the Publisher holds is not necessarily on the gateways yet; they get it with the next deployed revision.
  - Never changes anything.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.publisher
  - apim.certificates.attributes.info_module
options:
  api_id:
    description:
      - The id (UUID) of the API. Mutually exclusive with O(api_name) and O(api_version_name).
    type: str
  api_name:
    description:
      - The name of the API, with O(api_version_name); matched exactly (exactly one API must match).
    type: str
  api_version_name:
    description:
      - The version of the API named O(api_name), e.g. C(1.0.0).
    type: str
  alias:
    description:
      - Only the certificate with this alias (exact).
    type: str
  key_type:
    description:
      - Only this key type, V(PRODUCTION) or V(SANDBOX) (any case). By default both (PRODUCTION only on the
        deprecated route).
    type: str
  route:
    description:
      - Which Publisher resource to read, as in M(apim.certificates.publisher_client_certificate) (V(auto) falls back
        to the deprecated V(client-certificates) when the Publisher has no V(client-certs)).
    type: str
    choices: [auto, client-certs, client-certificates]
    default: auto
notes:
  - The token needs C(apim:api_view) and one of C(apim:client_certificates_view), C(apim:client_certificates_manage),
    C(apim:api_view), C(apim:api_manage).
seealso:
  - module: apim.certificates.publisher_client_certificate
"""

EXAMPLES = r"""
- name: The client certificates of OrdersAPI 1.0.0
  apim.certificates.publisher_client_certificate_info:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: admin
    password: "{{ apim_admin_password }}"
    api_name: OrdersAPI
    api_version_name: 1.0.0
  register: orders_client_certs
  delegate_to: localhost
  run_once: true

- name: Client certificates the Publisher reports as expired
  ansible.builtin.debug:
    msg: "{{ orders_client_certs.certificates | selectattr('status', 'equalto', 'expired') | map(attribute='alias') }}"
"""

RETURN = r"""
api:
  description: The API.
  returned: always
  type: dict
  contains:
    id:
      description: The API's id.
      type: str
      sample: 01234567-0123-0123-0123-012345678901
    name:
      description: The API's name.
      type: str
      sample: OrdersAPI
    version:
      description: The API's version.
      type: str
      sample: 1.0.0
    context:
      description: The API's context.
      type: str
      sample: /orders/1.0.0
route:
  description: The route read, V(client-certs) or V(client-certificates).
  returned: always
  type: str
  sample: client-certs
certificates:
  description: The client certificates matching the filters, PRODUCTION first, in the Publisher's order.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias.
      type: str
      sample: partner-a
    key_type:
      description: V(PRODUCTION) or V(SANDBOX).
      type: str
      sample: PRODUCTION
    tier:
      description: The subscription tier applied to requests with the certificate.
      type: str
      sample: Gold
    status:
      description: The Publisher's status, lower-case (V(active) or V(expired)).
      type: str
      sample: active
    subject:
      description: The certificate's subject.
      type: str
      sample: CN=partner-a, O=Partner
    valid_from:
      description: Start of the validity, UTC, ISO 8601.
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
from ansible_collections.apim.certificates.plugins.module_utils._publisher import CONNECTION_OPTIONS, CONNECTION_RULES
from ansible_collections.apim.certificates.plugins.module_utils._publisher_mtls import (
    ROUTE_CHOICES,
    ApiSelector,
    connect_with,
    report,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_OPTIONS,
            api_id=dict(type="str"),
            api_name=dict(type="str"),
            api_version_name=dict(type="str"),
            alias=dict(type="str"),
            key_type=dict(type="str", no_log=False),
            route=dict(type="str", choices=list(ROUTE_CHOICES), default="auto"),
        ),
        mutually_exclusive=CONNECTION_RULES["mutually_exclusive"] + [("api_id", "api_name"), ("api_id", "api_version_name")],
        required_together=CONNECTION_RULES["required_together"] + [("api_name", "api_version_name")],
        required_one_of=CONNECTION_RULES["required_one_of"] + [("api_id", "api_name")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        selector = ApiSelector(params["api_id"], params["api_name"], params["api_version_name"])
        found = report(connect_with(params), selector, key_type=params["key_type"], alias=params["alias"],
                       route=params["route"])
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    exit_json(module, changed=False, count=len(found["certificates"]), **found)


if __name__ == "__main__":
    main()
