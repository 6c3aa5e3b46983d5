#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: listener_certificate
short_description: API client certificates in the HTTPS listener's truststore of a WSO2 API-M gateway node
version_added: 0.3.0
description:
  - The listener side of mutual TLS, by file, on the node. API consumers present client certificates to the gateway's
    HTTPS listener (port 8243), which accepts them when its truststore (the one profile of C(listenerprofiles.xml),
    by default C(client-truststore.jks)) trusts them; a mutual-SSL API then accepts the certificates bound to it.
  - Puts each certificate (a client certificate, or a CA that issues client certificates) under the alias the
    gateway itself gives API client certificates, C(<KEYTYPE>_<alias>_<tenantId>) (KEYTYPE C(PRODUCTION) or
    C(SANDBOX), the super tenant C(-1234)), into the listener's truststore and into the persistent truststore of
    C(deployment.toml) (one store when they are the same file, as on a stock 4.x gateway), then touches
    C(listenerprofiles.xml) so that the listener reloads its profile within
    C([transport.passthru_https.listener] ssl_profile_interval) (RV(live_within)).
  - Certificates that a TLS-terminating load balancer forwards in a header are checked by a second reloader, which
    reloads the store when its modification time changes, every C([apim.certificate_reloader] period) seconds.
  - Use it where the Publisher's revisions do not reach a gateway (a gateway added later, certificates lost at a
    restart on 4.0), or to put client CAs in place. A revision deployed later may overwrite an entry with the
    Publisher's certificate under the same alias; the Publisher route is M(apim.certificates.publisher_endpoint_certificate)'s
    sibling for client certificates.
  - The sender side does not disturb these entries (every alias has the client-certificate form, which
    M(apim.certificates.gateway_trust)'s prune and drop filters never remove), and this module never touches the
    sender's backend certificates in a shared store; O(exclusive) removes only client-certificate aliases.
  - A failed run leaves every file as it was.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.truststore.requirements
  - apim.certificates.attributes
options:
  apim_home:
    description: The API-M installation directory of the gateway node (C(<API-M_HOME>)).
    type: path
    required: true
  password:
    description:
      - The truststore password, for both stores.
      - Defaults to each store's password as C(listenerprofiles.xml) and C(deployment.toml) give it in plain text. A
        password protected by secure vault (C($secret{...})) must be given here.
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  store_type:
    description: The truststores' format. V(auto) detects it from each file's bytes.
    type: str
    default: auto
  certificates:
    description: The client certificates (or client CAs) the listener must trust, or with O(certificates[].state=absent) not trust.
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description: The alias as the Publisher names it (1 to 30 characters, no white space, with O(strict_alias)); stored as RV(results[].alias).
        type: str
        required: true
      key_type:
        description: The key type of the API's keys the certificate is for.
        type: str
        choices: [PRODUCTION, SANDBOX]
        default: PRODUCTION
      tenant_id:
        description: The tenant's id; the super tenant is C(-1234).
        type: int
        default: -1234
      certificate:
        description: One certificate, PEM or base64 DER. A bundle of several is refused (one certificate per alias).
        type: str
      certificate_path:
        description: A file on the node holding the certificate (PEM or DER).
        type: path
      state:
        description: V(present) to trust it, V(absent) to remove it.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
      - Also remove every client-certificate alias (C(<KEYTYPE>_<alias>_<tenantId>)) the stores hold that
        O(certificates) does not name, including those a Publisher revision wrote. Other aliases are never touched.
    type: bool
    default: false
  strict_alias:
    description: Enforce API-M's alias rules (1 to 30 characters, no white space).
    type: bool
    default: true
  allow_expired:
    description: Store a certificate even though it has expired (the Publisher refuses expired client certificates).
    type: bool
    default: false
  backup:
    description: Keep a copy of each store as it was, next to it, before changing it (RV(backup_files)).
    type: bool
    default: false
  reload:
    description: Touch C(listenerprofiles.xml) when a store changed, so that the listener reloads its profile.
    type: bool
    default: true
notes:
  - Check mode predicts the real run, failures included; diff mode shows fingerprints and subjects per store.
seealso:
  - module: apim.certificates.endpoint_certificate
  - module: apim.certificates.truststore_info
"""

EXAMPLES = r"""
- name: Trust the mobile app's client certificate for the production keys of a mutual-SSL API
  apim.certificates.listener_certificate:
    apim_home: /opt/wso2am-4.2.0
    certificates:
      - alias: mobile-app
        certificate: "{{ lookup('file', 'certs/mobile-app.pem') }}"
  become: true
  become_user: wso2

- name: Trust the partners' CA for sandbox keys in tenant 3, and nothing else the file route or a revision wrote
  apim.certificates.listener_certificate:
    apim_home: /opt/wso2am-4.2.0
    certificates:
      - alias: partner-ca
        key_type: SANDBOX
        tenant_id: 3
        certificate_path: /etc/pki/partners/ca.pem
    exclusive: true
  register: listener

- name: Say when it is live
  ansible.builtin.debug:
    msg: "{{ listener.live_within }}"
"""

RETURN = r"""
changed:
  description: Whether a store changed (in check mode, would change).
  returned: always
  type: bool
check_mode:
  description: Whether the module ran in check mode.
  returned: always
  type: bool
results:
  description: One item per alias named or removed.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias as stored, C(<keytype>_<alias>_<tenantid>) (lower-case).
      type: str
      sample: production_mobile-app_-1234
    action:
      description: V(added), V(replaced), V(removed) or V(unchanged). In check mode, what a real run would do.
      type: str
    fingerprint:
      description: SHA-256 of the certificate under the alias after the run; null once removed.
      type: str
    previous_fingerprint:
      description: SHA-256 of what the alias held before; null if nothing.
      type: str
    subject:
      description: The certificate's subject, RFC 4514; null when nothing is stored.
      type: str
    not_after:
      description: End of the certificate's validity, UTC, ISO 8601.
      type: str
    status:
      description: V(active), V(expired) or V(not_yet_valid).
      type: str
stores:
  description: Each store written or checked, with its role (V(listener), V(persistent), or V(listener+persistent)).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The store's path.
      type: str
    role:
      description: What the store is for.
      type: str
    store_type:
      description: JKS, JCEKS or PKCS12.
      type: str
    changed:
      description: Whether this store changed.
      type: bool
    created:
      description: Always false (the module writes into existing stores only).
      type: bool
    results:
      description: This store's items, as in RV(results).
      type: list
      elements: dict
store_type:
  description: The first store's format.
  returned: always
  type: str
created:
  description: Always false.
  returned: always
  type: bool
touched:
  description: C(listenerprofiles.xml) when it was touched (in check mode, would be); null otherwise.
  returned: always
  type: str
listener_profiles_path:
  description: The listener's profile file, C(listenerprofiles.xml).
  returned: always
  type: str
truststore:
  description: The listener's truststore, as C(listenerprofiles.xml) names it.
  returned: always
  type: str
live_within_ms:
  description:
    - Per reloader, how soon the running gateway picks up a change, in milliseconds, from C(deployment.toml) (WSO2's
      defaults where it is silent) - C(listenerprofiles.xml) (the listener's profile reload) and
      C(header certificate reloader) (certificates a load balancer forwards in a header).
  returned: always
  type: dict
  sample: {"listenerprofiles.xml": 600000, "header certificate reloader": 600000}
live_within:
  description: When the change will be live, one sentence per reloader; empty when nothing changed.
  returned: always
  type: list
  elements: str
backup_file:
  description: The first backup made (with O(backup)).
  returned: when a backup was made
  type: str
backup_files:
  description: Every backup made (with O(backup)).
  returned: when a backup was made
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# pylint: disable-next=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._endpoint_certificates import Options
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._listener_certificates import CERTIFICATE_OPTIONS, converge
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json, settle


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apim_home=dict(type="path", required=True),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            certificates=dict(type="list", elements="dict", default=[], options=CERTIFICATE_OPTIONS),
            exclusive=dict(type="bool", default=False),
            strict_alias=dict(type="bool", default=True),
            allow_expired=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            reload=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    options = Options(strict_alias=params["strict_alias"], allow_expired=params["allow_expired"], backup=params["backup"],
                      reload=params["reload"])
    try:
        result = converge(params["certificates"], apim_home=params["apim_home"], password=params["password"],
                          store_type=params["store_type"], exclusive=params["exclusive"], options=options,
                          check_mode=module.check_mode)
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))

    settle(module, result)
    exit_json(module, **result)


if __name__ == "__main__":
    main()
