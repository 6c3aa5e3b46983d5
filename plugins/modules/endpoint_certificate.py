#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: endpoint_certificate
short_description: Add, replace or remove backend certificates in a Java truststore
version_added: 0.1.0
description:
  - Makes a WSO2 API Manager gateway's truststore (JKS, JCEKS or PKCS12) hold, or not hold, the certificate of a
    backend, under a given alias, without a JRE on the managed node.
  - Idempotent by content. An alias that already holds the same certificate (same SHA-256) is left alone, and the
    store is not rewritten when nothing changes.
  - An alias that holds a different certificate is replaced (O(replace)); an expired certificate is refused, as
    API-M refuses it (O(allow_expired)).
  - The store is read, changed and written under a lock, through a temporary file and an atomic rename, so a
    concurrent run or a crash never leaves a half-written truststore.
  - Gateway mode (O(apim_home)) writes the certificate where a running WSO2 API-M gateway reads it now and where it
    reads it after a restart, then makes the gateway reload its SSL profiles, with no restart.
  - The certificate can be given (O(certificate), O(certificate_path)) or fetched from the backend itself
    (O(endpoint)), pinned by its SHA-256 (O(fingerprint)).
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.truststore
  - apim.certificates.truststore.requirements
  - apim.certificates.attributes
  - ansible.builtin.files
options:
  path:
    description:
      - The truststore to change. Mutually exclusive with O(apim_home); one of them is required.
  apim_home:
    description:
      - Gateway mode. The API-M installation directory of a gateway node (C(<API-M_HOME>)).
      - Each certificate is written into the B(live) truststore of the SSL profile that serves O(endpoint) (the
        C(*) profile when no endpoint is given), as C(repository/resources/security/sslprofiles.xml) names it now
        (on API-M 4.x the start-up copy C(client-truststore-temp.jks)), and into the B(persistent) truststore
        C(deployment.toml) configures for that profile (C([truststore]) for the default profile), each once.
      - When a store changed, C(sslprofiles.xml) is touched so the gateway reloads within one interval
        (RV(reload_within_ms)); see O(reload).
    type: path
  password:
    description:
      - Required to change a store, and used to verify its integrity.
      - In gateway mode it defaults to each store's password as C(deployment.toml) and C(sslprofiles.xml) give it in
        plain text. A password protected by secure vault (C($secret{...})) must be given here.
  alias:
    description:
      - The alias to manage (case-insensitive, stored lower-case).
      - With O(strict_alias), 1 to 30 characters without white space, as the API-M Publisher requires.
      - Required unless O(certificates) is given.
    type: str
  certificate:
    description:
      - The certificate's content. PEM (one or more certificates, text around them ignored), base64 DER, or a
        PEM PKCS#7 bundle.
      - A private key or a certificate signing request is refused.
      - Mutually exclusive with O(certificate_path).
    type: str
  certificate_path:
    description:
      - A certificate file on the managed node, in any form O(certificate) accepts, or binary DER or PKCS#7.
    type: path
  endpoint:
    description:
      - The backend, as C(https://host:port[/path]) or C(host:port) (port 443 when absent).
      - Without O(certificate) or O(certificate_path), the certificate is fetched from it by a TLS handshake (with SNI,
        trusting nothing) from the managed node. Without O(fingerprint) this trusts on first use, with a warning.
      - In gateway mode it also selects the SSL profile (exact C(host:port) match first, C(*) last, as Synapse does).
    type: str
  fingerprint:
    description:
      - A certificate SHA-256 pin, with or without colons, any case. It matches the leaf, or a CA of the chain's
        verified path (each certificate signed by the next one, from the leaf up; a certificate merely appended to
        the chain never matches). When the chain (fetched or given) matches neither it nor O(spki_pins), the task
        fails, naming the pins and the chain's fingerprints, and writes nothing.
    type: str
  spki_pins:
    description:
      - SubjectPublicKeyInfo SHA-256 pins, as RFC 7469 writes them (C(sha256/<base64>)) or as 64 hex digits. Give
        several to have a backup pin. Each matches the leaf or a CA of the verified path, as O(fingerprint) does;
        one match is enough.
      - A pin on the key survives a renewal that keeps the key; a pin on the issuing CA survives every renewal
        under that CA. Without O(fingerprint) and O(spki_pins), a certificate fetched from O(endpoint) is trusted
        on first use, with a warning.
    type: list
    elements: str
  timeout:
    description:
      - Seconds to wait for O(endpoint) to connect and complete the TLS handshake.
    type: int
    default: 10
  reload:
    description:
      - Gateway mode. Touch C(sslprofiles.xml) when a store changed, so the gateway reloads its SSL profiles.
        Nothing is touched when nothing changed.
    type: bool
    default: true
  state:
    description:
      - V(present) makes the alias hold the certificate; V(absent) removes the alias (a certificate is not needed).
      - Defaults to V(present).
      - Mutually exclusive with O(certificates), where each item has its own O(certificates[].state). A task giving
        both fails, naming O(state), and changes nothing.
    type: str
    choices: [present, absent]
  chain:
    description:
      - What to trust of the certificates the content or the endpoint gives (a bundle or a served chain).
      - V(all) stores each of them, the first under O(alias) and the others under C(<alias>-1), C(<alias>-2), ...
      - V(leaf) stores the first one only. The next renewal of a CA-issued leaf breaks that trust (a warning says
        so for a fetched leaf).
      - V(issuer) stores the CA that signed the leaf, V(root) the topmost CA of the chain, each under O(alias), and
        only when the chain's signatures verify from the leaf up to it and every CA on the way is a CA
        (basicConstraints); a self-signed leaf has no issuer, and the task says so. A backend's routine renewal
        under the same CA then keeps the gateway's trust (docs/user-guide.md, "Backend certificate rotation").
      - Defaults to V(leaf) for certificates fetched from O(endpoint) and V(all) otherwise. Chains of more than 10
        certificates are refused for V(issuer) and V(root).
    type: str
    choices: [all, leaf, issuer, root]
    aliases: [trust]
  replace:
    description:
      - When the alias already holds a different certificate, replace it. With V(false) the existing certificate
        is kept and a warning says so.
    type: bool
    default: true
  allow_expired:
    description:
      - Store a certificate even though it has expired. API-M itself refuses expired certificates.
    type: bool
    default: false
  create:
    description:
      - Create the truststore when it does not exist (mode C(0600) unless O(mode) says otherwise). Otherwise a
        missing store is an error.
    type: bool
    default: false
  backup:
    description:
      - Keep a copy of the store as it was, next to it, before changing it. Its path is returned in RV(backup_file).
    type: bool
    default: false
  strict_alias:
    description:
      - Enforce API-M's alias rules (1 to 30 characters, no white space). With V(false) any non-empty alias
        without control characters is accepted.
    type: bool
    default: true
  tenant_id:
    description:
      - Store each alias as API-M stores it on gateways for a tenant other than the super tenant, C(<alias>_<tenant_id>).
    type: int
  certificates:
    description:
      - Batch mode. Several aliases, applied with one load and one save of the store.
      - Mutually exclusive with O(alias), O(certificate), O(certificate_path) and O(state).
      - Aliases must be unique (case-insensitive) in the list.
    type: list
    elements: dict
    suboptions:
      alias:
        description: The alias, as O(alias).
        type: str
        required: true
      certificate:
        description: The certificate's content, as O(certificate).
        type: str
      certificate_path:
        description: A certificate file on the managed node, as O(certificate_path).
        type: path
      endpoint:
        description: The backend, as O(endpoint).
        type: str
      fingerprint:
        description: A certificate SHA-256 pin, as O(fingerprint).
        type: str
      spki_pins:
        description: SPKI SHA-256 pins, as O(spki_pins).
        type: list
        elements: str
      chain:
        description: What to trust of this item's chain, as O(chain). Defaults to O(chain).
        type: str
        choices: [all, leaf, issuer, root]
        aliases: [trust]
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
        default: present
notes:
  - Java treats aliases case-insensitively; C(Backend) and C(backend) are the same alias.
  - Entries holding private or secret keys are never changed or removed by this module.
  - If the same certificate already sits under another alias, the module adds it anyway under the alias asked for
    and warns.
seealso:
  - module: apim.certificates.truststore_info
  - module: community.general.java_cert
"""

EXAMPLES = r"""
- name: Trust the orders backend's self-signed certificate
  apim.certificates.endpoint_certificate:
    path: /opt/wso2am/repository/resources/security/client-truststore.jks
    password: "{{ truststore_password }}"
    alias: orders-backend
    certificate: "{{ lookup('ansible.builtin.file', 'files/orders.crt') }}"

- name: Trust a private CA chain from a file on the gateway node
  apim.certificates.endpoint_certificate:
    path: /opt/wso2am/repository/resources/security/client-truststore.jks
    password: "{{ truststore_password }}"
    alias: corp-ca
    certificate_path: /etc/pki/corp-ca-bundle.pem
    backup: true

- name: Several backends in one load and one save
  apim.certificates.endpoint_certificate:
    path: /opt/wso2am/repository/resources/security/client-truststore.jks
    password: "{{ truststore_password }}"
    certificates:
      - alias: orders-backend
        certificate: "{{ orders_pem }}"
      - alias: payments-backend
        certificate_path: /etc/pki/payments.crt
      - alias: retired-backend
        state: absent

- name: Trust a backend on a gateway node, live and after restart, fetched from the backend and pinned
  apim.certificates.endpoint_certificate:
    apim_home: /opt/wso2am-4.2.0
    alias: orders-backend
    endpoint: https://orders.internal:8443/
    fingerprint: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
  register: trusted

- name: Show when the gateway picks it up
  ansible.builtin.debug:
    msg: "Live within {{ trusted.reload_within_ms // 1000 }} s"
  when: trusted.touched is not none

- name: Create a PKCS12 truststore for a custom SSL profile
  apim.certificates.endpoint_certificate:
    path: /opt/wso2am/repository/resources/security/backend-truststore.p12
    store_type: PKCS12
    password: "{{ truststore_password }}"
    create: true
    mode: "0640"
    alias: orders-backend
    certificate: "{{ orders_pem }}"
"""

RETURN = r"""
path:
  description: The truststore.
  returned: when O(path) is given
  type: str
  sample: /opt/wso2am/repository/resources/security/client-truststore.jks
store_type:
  description: The store's format.
  returned: always
  type: str
  sample: JKS
check_mode:
  description: Whether the module ran in check mode (nothing was written), however check mode was asked for.
  returned: always
  type: bool
  sample: false
created:
  description: Whether the store was (or, in check mode, would be) created.
  returned: always
  type: bool
  sample: false
backup_file:
  description: The copy of the store made before it was changed.
  returned: when O(backup=true) and the store was changed
  type: str
  sample: /opt/wso2am/repository/resources/security/client-truststore.jks.4242.2026-11-27@10:00:00~
backup_files:
  description: Every backup made (gateway mode may change two stores).
  returned: when O(backup=true) and a store was changed
  type: list
  elements: str
stores:
  description: Gateway mode. Each store written (or checked), with what happened in it.
  returned: when O(apim_home) is given
  type: list
  elements: dict
  contains:
    path:
      description: The store.
      type: str
    role:
      description: V(live) (what sslprofiles.xml points at now), V(persistent) (what deployment.toml configures), or V(live+persistent) when they are one file.
      type: str
    store_type:
      description: The store's format.
      type: str
    changed:
      description: Whether this store changed.
      type: bool
    created:
      description: Whether this store was created.
      type: bool
    results:
      description: As RV(results), for this store.
      type: list
      elements: dict
sslprofiles_path:
  description: Gateway mode. The sslprofiles.xml the gateway watches.
  returned: when O(apim_home) is given
  type: str
  sample: /opt/wso2am-4.2.0/repository/resources/security/sslprofiles.xml
touched:
  description: Gateway mode. The file touched to make the gateway reload (in check mode, the one that would be), or null.
  returned: when O(apim_home) is given
  type: str
reload_within_ms:
  description: Gateway mode. How soon the gateway reloads after the touch, in ms (the configured interval, at least 60000).
  returned: when O(apim_home) is given
  type: int
  sample: 600000
results:
  description: One item per alias handled, in the order given. In gateway mode, per alias, what happened in the first store that changed.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias as stored (lower-case, with the tenant suffix if any).
      type: str
      sample: orders-backend
    action:
      description: V(added), V(replaced), V(removed) or V(unchanged). In check mode, what a real run would do.
      type: str
      sample: added
    fingerprint:
      description: SHA-256 fingerprint (keytool's form) of the certificate now under the alias; null once removed.
      type: str
      sample: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
    previous_fingerprint:
      description: SHA-256 fingerprint of what the alias held before; null if it did not exist.
      type: str
      sample: null
    subject:
      description: The certificate's subject, RFC 4514; null when nothing was stored.
      type: str
      sample: CN=orders.internal
    not_after:
      description: End of the certificate's validity, UTC, ISO 8601.
      type: str
      sample: "2027-11-27T10:00:00Z"
    status:
      description: V(active), V(expired) or V(not_yet_valid).
      type: str
      sample: active
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._endpoint_certificates import CertificateRequest, Options, manage, request_from_item
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_with_file_attributes, fail_json, settle


def requests_from(params: dict) -> list:
    """The aliases asked for, single or batch, as CertificateRequest items."""
    if params["certificates"] is not None:
        return [
            request_from_item(item, f"certificates[{index}]")
            for index, item in enumerate(params["certificates"])
        ]
    return [CertificateRequest(
        alias=params["alias"], state=params["state"] or "present", certificate=params["certificate"],
        certificate_path=params["certificate_path"], endpoint=params["endpoint"], fingerprint=params["fingerprint"],
        spki_pins=params["spki_pins"],
    )]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            apim_home=dict(type="path"),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            alias=dict(type="str"),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            endpoint=dict(type="str"),
            fingerprint=dict(type="str"),
            spki_pins=dict(type="list", elements="str"),
            timeout=dict(type="int", default=10),
            reload=dict(type="bool", default=True),
            # No default here: a default would hide a top-level state given with certificates (mutually exclusive).
            state=dict(type="str", choices=["present", "absent"]),
            chain=dict(type="str", choices=["all", "leaf", "issuer", "root"], aliases=["trust"]),
            replace=dict(type="bool", default=True),
            allow_expired=dict(type="bool", default=False),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            strict_alias=dict(type="bool", default=True),
            tenant_id=dict(type="int"),
            certificates=dict(
                type="list",
                elements="dict",
                options=dict(
                    alias=dict(type="str", required=True),
                    certificate=dict(type="str"),
                    certificate_path=dict(type="path"),
                    endpoint=dict(type="str"),
                    fingerprint=dict(type="str"),
                    spki_pins=dict(type="list", elements="str"),
                    chain=dict(type="str", choices=["all", "leaf", "issuer", "root"], aliases=["trust"]),
                    state=dict(type="str", choices=["present", "absent"], default="present"),
                ),
            ),
        ),
        mutually_exclusive=[
            ("path", "apim_home"),
            ("certificate", "certificate_path"),
            ("certificates", "alias"),
            ("certificates", "certificate"),
            ("certificates", "certificate_path"),
            ("certificates", "endpoint"),
            ("certificates", "fingerprint"),
            ("certificates", "spki_pins"),
            ("certificates", "state"),
        ],
        required_one_of=[("alias", "certificates"), ("path", "apim_home")],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    options = Options(
        strict_alias=params["strict_alias"], chain=params["chain"], tenant_id=params["tenant_id"],
        timeout=params["timeout"], replace=params["replace"], allow_expired=params["allow_expired"],
        create=params["create"], backup=params["backup"], reload=params["reload"],
    )
    try:
        result = manage(
            requests_from(params), options, path=params["path"], password=params["password"],
            store_type=params["store_type"], apim_home=params["apim_home"], check_mode=module.check_mode,
        )
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))

    settle(module, result)
    exit_with_file_attributes(module, result)


if __name__ == "__main__":
    main()
