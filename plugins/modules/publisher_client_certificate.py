#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: publisher_client_certificate
short_description: Add, replace or remove an API's client certificate (mutual SSL) through the API-M Publisher
version_added: 0.3.0
description:
  - Makes an API of the WSO2 API Manager Publisher hold, or not hold, a client certificate for mutual SSL under an
    alias and a key type (PRODUCTION or SANDBOX), with the subscription tier applied to requests that present it,
    as the Publisher UI's "Transport Level Security" page does.
  - Uses C(/apis/{apiId}/client-certs/{keyType}) (API-M 4.4 and later) or the deprecated
    C(/apis/{apiId}/client-certificates) (older versions; PRODUCTION only), see O(route).
  - Idempotent by content. The SHA-256 of the certificate the Publisher serves for the alias and its tier are
    compared with the desired ones; nothing is written when they are equal. A different certificate or tier is
    replaced by one update (PUT) carrying what changed.
  - Gateways get the change only with the next deployed revision of the API. With O(deploy_revision=true) a changing
    run creates a revision and deploys it to the gateway environments the API is deployed to now; otherwise it
    returns RV(gateways_updated=false) and a warning that the change is not yet on the gateways.
  - An expired certificate, a key type other than PRODUCTION or SANDBOX, an alias over 30 characters and a tier the
    API does not offer are refused before any write call.
  - To put client certificates into the gateways' listener truststores by file instead, see the collection's
    docs/publisher.md.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.publisher
  - apim.certificates.attributes
options:
  api_id:
    description:
      - The id (UUID) of the API. Mutually exclusive with O(api_name) and O(api_version_name).
    type: str
  api_name:
    description:
      - The name of the API, with O(api_version_name). The Publisher's search is loose; the module keeps the API
        whose name and version are exactly these, and fails when there is none or more than one.
    type: str
  api_version_name:
    description:
      - The version of the API named O(api_name), e.g. C(1.0.0). (O(api_version) is the REST API's version.)
    type: str
  alias:
    description:
      - The alias, 1 to 30 characters. The gateways store it as C(<KEYTYPE>_<alias>_<tenantId>).
    type: str
    required: true
  key_type:
    description:
      - V(PRODUCTION) or V(SANDBOX), in any case. V(SANDBOX) needs the C(client-certs) route (API-M 4.4+).
    type: str
    default: PRODUCTION
  tier:
    description:
      - The subscription tier (policy name, e.g. C(Gold)) applied to requests that present the certificate.
        Required to add. When omitted for an existing alias, the tier is left as it is; a different tier is a change.
      - When the API lists its subscription tiers, the tier must be one of them.
    type: str
  certificate:
    description:
      - The client certificate, PEM or base64 DER. One certificate per alias. Mutually exclusive with
        O(certificate_path).
    type: str
  certificate_path:
    description:
      - A file holding the client certificate (PEM or DER) where the module runs.
    type: path
  state:
    description:
      - V(present) makes the alias hold the certificate and tier; V(absent) removes the alias.
    type: str
    choices: [present, absent]
    default: present
  route:
    description:
      - Which Publisher resource to use. V(client-certs) is C(/apis/{apiId}/client-certs/{keyType}) (API-M 4.4+).
        V(client-certificates) is the deprecated C(/apis/{apiId}/client-certificates), PRODUCTION only.
      - V(auto) uses V(client-certs), and V(client-certificates) when the Publisher answers 404 to the first
        (a version before 4.4). RV(route) says which one was used.
    type: str
    choices: [auto, client-certs, client-certificates]
    default: auto
  deploy_revision:
    description:
      - When the run changes the certificate, create a revision of the API (C(POST /apis/{apiId}/revisions)) and
        deploy it (C(POST /apis/{apiId}/deploy-revision)) to every gateway environment and vhost the API is deployed
        to now (C(GET /apis/{apiId}/deployments)), so that the gateways get the change.
      - V(false) leaves the gateways with the old set until someone deploys a revision; the result then says so
        (RV(gateways_updated=false) and a warning).
      - A run that changes nothing deploys nothing, also when an earlier run left a change undeployed.
      - API-M keeps at most 5 revisions per API; creating a sixth fails with the Publisher's message, after the
        certificate change, and the error says what was done and what was not.
    type: bool
    default: false
notes:
  - 'Scopes: the token needs C(apim:api_view) (to find the API) and, per kind of call, one of:
    view C(apim:client_certificates_view), C(apim:client_certificates_manage), C(apim:api_view), C(apim:api_manage);
    add C(apim:client_certificates_add), C(apim:client_certificates_manage), C(apim:api_create), C(apim:api_manage);
    update (PUT) C(apim:client_certificates_update), C(apim:client_certificates_manage), C(apim:api_create),
    C(apim:api_manage); delete C(apim:client_certificates_update), C(apim:api_create), C(apim:api_manage) (not
    C(..._manage)); revisions C(apim:api_publish), C(apim:api_create), C(apim:api_manage). With O(username) the module
    asks for the least of these, as for endpoint certificates.'
  - Check mode and diff mode make no write call. They read the API, the certificate and (with O(deploy_revision))
    the deployments, and take the token a real run would write with, so a missing scope fails the check run too.
  - The diff shows the alias, key type, tier, fingerprint, subject and expiry; never a secret.
seealso:
  - module: apim.certificates.publisher_client_certificate_info
  - module: apim.certificates.publisher_endpoint_certificate
"""

EXAMPLES = r"""
- name: Let the partner's client certificate call OrdersAPI 1.0.0 with the Gold tier, on the gateways now
  apim.certificates.publisher_client_certificate:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: admin
    password: "{{ apim_admin_password }}"
    api_name: OrdersAPI
    api_version_name: 1.0.0
    alias: partner-a
    key_type: PRODUCTION
    tier: Gold
    certificate: "{{ lookup('ansible.builtin.file', 'files/partner-a.crt') }}"
    deploy_revision: true
  delegate_to: localhost
  run_once: true

- name: A sandbox certificate by API id, deployed later with other changes
  apim.certificates.publisher_client_certificate:
    publisher_url: https://apim.example.com:9443
    token: "{{ publisher_token }}"
    api_id: 01234567-0123-0123-0123-012345678901
    alias: partner-a-test
    key_type: sandbox
    tier: Unlimited
    certificate_path: /etc/pki/partner-a-test.crt
  register: sandbox_cert

- name: Remove a partner's certificate on an API-M 4.2 (deprecated route)
  apim.certificates.publisher_client_certificate:
    publisher_url: https://apim.example.com:9443
    ca_path: /etc/pki/apim-ca.pem
    username: admin
    password: "{{ apim_admin_password }}"
    api_id: 01234567-0123-0123-0123-012345678901
    alias: partner-b
    route: client-certificates
    state: absent
    deploy_revision: true
"""

RETURN = r"""
action:
  description: V(added), V(replaced), V(removed) or V(unchanged). In check mode, what a real run would do.
  returned: always
  type: str
  sample: added
route:
  description: The route used, V(client-certs) or V(client-certificates).
  returned: always
  type: str
  sample: client-certs
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
certificate:
  description:
    - The client certificate the Publisher holds for the alias and key type after the run (in check mode, the one it
      would hold); null when the alias is absent.
  returned: always
  type: dict
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
      description: The Publisher's status of the certificate, lower-case (V(active) or V(expired)).
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
      description: SHA-256 fingerprint (keytool's form) of the certificate.
      type: str
      sample: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
gateways_updated:
  description:
    - V(true) when the run deployed (in check mode, would deploy) a revision carrying the change to the API's
      gateway environments; V(false) when it changed the Publisher only (not yet on gateways; a warning says so);
      null when nothing changed.
  returned: always
  type: bool
  sample: false
revision:
  description: The revision created and deployed; null when none was (always in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: The revision's id.
      type: str
      sample: e0824883-3e86-403a-aec1-22bbc454eb7c
    display_name:
      description: The revision's name, as the Publisher gives it.
      type: str
      sample: Revision 3
deployed_to:
  description: The gateway environments the revision was (in check mode, would be) deployed to; empty otherwise.
  returned: always
  type: list
  elements: str
  sample: [Default]
check_mode:
  description: Whether the run was in check mode.
  returned: always
  type: bool
  sample: false
diff:
  description: Before and after (alias, key_type, tier, fingerprint, subject, valid_to); empty dicts for an absent alias.
  returned: in diff mode
  type: dict
  sample: {"before": {}, "after": {"alias": "partner-a", "key_type": "PRODUCTION", "tier": "Gold"}}
"""

from ansible.module_utils.basic import AnsibleModule

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json, settle
from ansible_collections.apim.certificates.plugins.module_utils._publisher import CONNECTION_OPTIONS, CONNECTION_RULES
from ansible_collections.apim.certificates.plugins.module_utils._publisher_mtls import (
    ROUTE_CHOICES,
    ApiSelector,
    connect_with,
    load_desired,
    manage,
)

API_RULES = dict(
    mutually_exclusive=[("api_id", "api_name"), ("api_id", "api_version_name")],
    required_together=[("api_name", "api_version_name")],
    required_one_of=[("api_id", "api_name")],
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_OPTIONS,
            api_id=dict(type="str"),
            api_name=dict(type="str"),
            api_version_name=dict(type="str"),
            alias=dict(type="str", required=True),
            key_type=dict(type="str", default="PRODUCTION", no_log=False),
            tier=dict(type="str"),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            route=dict(type="str", choices=list(ROUTE_CHOICES), default="auto"),
            deploy_revision=dict(type="bool", default=False),
        ),
        mutually_exclusive=CONNECTION_RULES["mutually_exclusive"] + API_RULES["mutually_exclusive"]
        + [("certificate", "certificate_path")],
        required_together=CONNECTION_RULES["required_together"] + API_RULES["required_together"],
        required_one_of=CONNECTION_RULES["required_one_of"] + API_RULES["required_one_of"],
        required_if=[("state", "present", ("certificate", "certificate_path"), True)],
        supports_check_mode=True,
    )
    params = module.params
    try:
        desired = load_desired(alias=params["alias"], key_type=params["key_type"], state=params["state"],
                               tier=params["tier"], certificate=params["certificate"],
                               certificate_path=params["certificate_path"])
        selector = ApiSelector(params["api_id"], params["api_name"], params["api_version_name"])
        result = manage(connect_with(params), selector, desired, route=params["route"],
                        deploy_revision=params["deploy_revision"], check_mode=module.check_mode)
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    exit_json(module, **settle(module, result))


if __name__ == "__main__":
    main()
