#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: endpoint_keystore
short_description: Put the gateway's own key pair (client certificate) into a Java keystore
version_added: 0.2.0
description:
  - Makes a JKS, JCEKS or PKCS12 keystore hold, or not hold, a private key and its certificate chain under an alias,
    the key protected by the key password. That is the key pair a WSO2 API Manager gateway presents to a backend that
    requires client certificates (mutual TLS). No JRE or keytool is needed on the managed node.
  - Idempotent by content. An alias whose chain has the same SHA-256 fingerprints, in the same order, and whose key
    opens with O(key_password) and has the same public key, is left alone; the file is not rewritten.
  - The chain is put in order (the key's certificate first, then each issuer, by verified signatures). A key that does
    not match any certificate given, a certificate not on the chain, and a chain that does not reach a self-signed root
    (unless O(allow_incomplete_chain)) are refused.
  - Every other entry of a JKS or JCEKS keystore is kept byte for byte. Before anything is written, every other key
    entry must open with O(key_password), because Java's KeyManagerFactory, which the gateway uses, opens every key
    entry of a keystore with the profile's one key password; the new keystore is read back and its key recovered.
  - The keystore is read, changed and written under a lock, through a temporary file in the same folder and an atomic
    rename; it keeps its owner, group and mode. A failed run leaves every file as it was.
  - Gateway mode (O(apim_home)) writes the keystore of the SSL profile that serves O(endpoint) (the default profile
    without one), as C(sslprofiles.xml) names it now and as C(deployment.toml) keeps it, then touches
    C(sslprofiles.xml) so the gateway reloads its SSL profiles, with no restart.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.attributes
  - ansible.builtin.files
requirements:
  - cryptography >= 3.4.8 on the managed node (every keystore type; JCEKS key entries use its TripleDES).
  - tomlkit >= 0.9.2 on the managed node in gateway mode (O(apim_home)); on Python 3.11+ the standard library reads
    deployment.toml when tomlkit is absent.
options:
  path:
    description:
      - The keystore to change, for example C(<API-M_HOME>/repository/resources/security/orders-keystore.jks).
      - Mutually exclusive with O(apim_home); one of them is required.
    type: path
  apim_home:
    description:
      - Gateway mode. The API-M installation directory of a gateway node (C(<API-M_HOME>)).
      - The keystore is the C(KeyStore) of the SSL profile that serves O(endpoint) in C(sslprofiles.xml) (exact
        C(host:port) first, C(*) last, as Synapse picks it) and the one C(deployment.toml) keeps for that profile
        (C([keystore.tls]) for the default profile, C(keystore.location) of its C([[keystore.ssl_profile.custom]])
        otherwise), each file once.
      - When a keystore changed, C(sslprofiles.xml) is touched so the sender reloads within one interval
        (RV(reload_within_ms)); see O(reload).
    type: path
  endpoint:
    description:
      - Gateway mode. The backend whose SSL profile's keystore is changed, as C(https://host:port[/path]) or
        C(host:port). Without it, the default (C(*)) profile's keystore.
    type: str
  password:
    description:
      - The keystore's password (the profile's C(KeyStore) C(Password)). Required to change a keystore.
      - In gateway mode it defaults to the password C(sslprofiles.xml) and C(deployment.toml) give in plain text; one
        protected by secure vault (C($secret{...})) must be given here.
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  key_password:
    description:
      - The password that protects the key entry (the profile's C(KeyPassword)). Required for JKS and JCEKS
        keystores (in gateway mode it defaults to the configured one); a JCEKS key password must be printable ASCII.
      - A PKCS12 keystore has one password for the store and its key; V(key_password), when given, must equal
        O(password).
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  store_type:
    description:
      - The keystore's format. V(auto) detects it from the file's bytes; a new keystore is JKS, or in gateway mode
        the type the profile names. A declared type that disagrees with the file's bytes is an error that names both.
      - Case-insensitive; V(p12) and V(pfx) are read as V(PKCS12).
    type: str
    default: auto
  alias:
    description:
      - The alias of the key entry (case-insensitive, stored lower-case). With O(strict_alias), 1 to 30 characters
        without white space.
    type: str
    required: true
  state:
    description:
      - V(present) makes the alias hold the key pair; V(absent) removes the key entry (no key pair is needed).
      - An alias that holds a trusted certificate is refused either way (that is M(apim.certificates.endpoint_certificate)'s).
    type: str
    choices: [present, absent]
    default: present
  private_key:
    description:
      - The private key, PEM (PKCS#8 C(PRIVATE KEY) or C(ENCRYPTED PRIVATE KEY), PKCS#1 C(RSA PRIVATE KEY), SEC1
        C(EC PRIVATE KEY), also with OpenSSL's C(DEK-Info) encryption) or base64 DER.
      - RSA of 2048 bits or more, or EC on P-256, P-384 or P-521. Ed25519 only with O(allow_ed25519).
      - Never logged, never shown in a diff, a result or an error message. Mutually exclusive with O(private_key_path),
        O(pkcs12) and O(pkcs12_path).
    type: str
  private_key_path:
    description:
      - A file on the managed node holding the private key, in any form O(private_key) accepts, or binary DER.
    type: path
  private_key_passphrase:
    description:
      - The passphrase of an encrypted O(private_key). Giving one for a key that is not encrypted is an error.
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  certificate:
    description:
      - The key's certificate and its CA certificates, PEM, in any order (they are ordered by their signatures).
      - Required with O(private_key) or O(private_key_path); mutually exclusive with O(certificate_path).
    type: str
  certificate_path:
    description:
      - A file on the managed node with the certificates, in any form O(certificate) accepts, or DER or PKCS#7.
    type: path
  pkcs12:
    description:
      - A PKCS#12 bundle (C(.p12), C(.pfx)) holding the key and its chain, base64-encoded (for example
        C("{{ lookup('ansible.builtin.file', 'client.p12.b64') }}") or the C(content) of M(ansible.builtin.slurp)).
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  pkcs12_path:
    description:
      - A PKCS#12 bundle file on the managed node.
    type: path
  pkcs12_password:
    description:
      - The password of O(pkcs12) or O(pkcs12_path).
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  allow_incomplete_chain:
    description:
      - Accept a chain that does not end at a self-signed root (for example leaf and intermediate, when the backend
        trusts the intermediate). By default such a chain is refused, naming the missing issuer.
    type: bool
    default: false
  allow_ed25519:
    description:
      - Accept an Ed25519 key. Java reads EdDSA keys only from JDK 15 on; a gateway on JDK 11 (API-M 4.0, 4.1) cannot
        load a keystore holding one, which fails its whole SSL profile reload. Set it only where every gateway runs
        JDK 15 or later (API-M 4.2 and later ship JDK 17).
    type: bool
    default: false
  replace:
    description:
      - When the alias holds a different key pair (another chain, another key, or a key that does not open with
        O(key_password)), replace it. With V(false) it is kept and a warning says so.
    type: bool
    default: true
  allow_expired:
    description:
      - Store a key pair whose certificate has expired (a backend refuses it).
    type: bool
    default: false
  create:
    description:
      - Create the keystore when it does not exist (mode C(0600) unless O(mode) says otherwise). Otherwise a missing
        keystore is an error.
    type: bool
    default: false
  backup:
    description:
      - Keep a copy of the keystore as it was, next to it, before changing it (RV(backup_file)).
    type: bool
    default: false
  reload:
    description:
      - Gateway mode. Touch C(sslprofiles.xml) when a keystore changed, so the gateway reloads its SSL profiles.
    type: bool
    default: true
  strict_alias:
    description:
      - Enforce API-M's alias rules (1 to 30 characters, no white space). With V(false) any non-empty alias without
        control characters is accepted.
    type: bool
    default: true
  check_endpoint:
    description:
      - After the run (in check mode too), present the key pair to O(endpoint) from the node in one TLS handshake and
        report the backend's answer in RV(handshake) - V(accepted), V(no certificate requested) (the backend does not
        ask for client certificates), V(refused) (with the TLS alert), or V(handshake failed) / V(unreachable) when it
        never got that far. The backend's own certificate is not judged here.
      - Needs O(endpoint) and O(state=present). The key reaches ssl through a temporary file that is encrypted with a
        random passphrase held in memory, in a 0700 folder, deleted at once.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the backend with O(check_endpoint).
    type: int
    default: 10
notes:
  - "How each keystore type protects the key: JKS with Sun's key protection (OID 1.3.6.1.4.1.42.2.17.1.1, as the
    JDK's C(sun.security.provider.KeyProtector); the only one Java's JKS reads), JCEKS with PBEWithMD5AndTripleDES
    (OID 1.3.6.1.4.1.42.2.19.1, 200000 iterations, as C(com.sun.crypto.provider.KeyProtector)), PKCS12 as cryptography
    writes it (the best encryption it has). Both JKS and JCEKS protections are weak by today's standards: keep the
    keystore's mode at C(0600) or C(0640)."
  - A PKCS12 keystore is rewritten only when the alias is its only entry; a keystore holding other entries is
    refused (cryptography writes one key entry and nothing else). Use JKS or JCEKS for keystores with several entries.
  - Secrets reach the module as its arguments; use pipelining (C(ANSIBLE_PIPELINING=1)) so that Ansible does not put
    the module and its arguments in a file on the node.
seealso:
  - module: apim.certificates.endpoint_certificate
  - module: apim.certificates.truststore_info
  - module: apim.certificates.ssl_profile
"""

EXAMPLES = r"""
- name: The gateway's client certificate for the orders backend, from PEM files on the controller
  apim.certificates.endpoint_keystore:
    path: /opt/wso2am/repository/resources/security/orders-keystore.jks
    password: "{{ keystore_password }}"
    key_password: "{{ keystore_password }}"
    create: true
    mode: "0640"
    alias: orders-client
    private_key: "{{ lookup('ansible.builtin.file', 'files/orders-client.key') }}"
    certificate: "{{ lookup('ansible.builtin.file', 'files/orders-client-chain.pem') }}"
  no_log: true

- name: On a gateway node, the keystore of the profile that serves the orders backend, then reload
  apim.certificates.endpoint_keystore:
    apim_home: /opt/wso2am-4.2.0
    endpoint: https://orders.internal:8443/
    alias: orders-client
    private_key: "{{ lookup('ansible.builtin.file', 'files/orders-client.key') }}"
    certificate: "{{ lookup('ansible.builtin.file', 'files/orders-client-chain.pem') }}"
  register: presented

- name: Show when the gateway presents it
  ansible.builtin.debug:
    msg: "{{ presented.chain[0].subject }} from within {{ presented.reload_within_ms // 1000 }} s"
  when: presented.touched is not none

- name: Remove an old key entry
  apim.certificates.endpoint_keystore:
    path: /opt/wso2am/repository/resources/security/orders-keystore.jks
    password: "{{ keystore_password }}"
    key_password: "{{ keystore_password }}"
    alias: retired-client
    state: absent
"""

RETURN = r"""
path:
  description: The keystore.
  returned: when O(path) is given
  type: str
  sample: /opt/wso2am/repository/resources/security/orders-keystore.jks
store_type:
  description: The keystore's format (of the first keystore that changed, in gateway mode).
  returned: always
  type: str
  sample: JKS
check_mode:
  description: Whether the module ran in check mode (nothing was written).
  returned: always
  type: bool
  sample: false
created:
  description: Whether a keystore was (or, in check mode, would be) created.
  returned: always
  type: bool
  sample: false
alias:
  description: The alias as stored (lower-case).
  returned: always
  type: str
  sample: orders-client
action:
  description: V(added), V(replaced), V(removed) or V(unchanged). In check mode, what a real run would do. In gateway mode, in the first keystore that changed.
  returned: always
  type: str
  sample: added
reason:
  description:
    - Why the entry is added, replaced or removed, for example V(the certificate chain differs) or V(the key entry does
      not open with key_password); null when unchanged.
  returned: always
  type: str
  sample: the alias is new
chain:
  description: The certificate chain now under the alias, leaf first (empty once removed). Facts only, never the key.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: The certificate's subject, RFC 4514.
      type: str
      sample: CN=gateway.example.com
    issuer:
      description: The certificate's issuer, RFC 4514.
      type: str
    fingerprint:
      description: SHA-256 fingerprint, keytool's form.
      type: str
    not_after:
      description: End of validity, UTC, ISO 8601.
      type: str
      sample: "2027-11-27T10:00:00Z"
    days_remaining:
      description: Whole days until RV(chain[].not_after) (negative once expired).
      type: int
previous_chain:
  description: The chain the alias held before, as RV(chain); empty when it did not exist.
  returned: always
  type: list
  elements: dict
key:
  description: The key's type and size (never the key itself); null once removed.
  returned: always
  type: dict
  contains:
    type:
      description: V(RSA), V(EC) or V(Ed25519).
      type: str
    size:
      description: Key size in bits (RSA modulus, EC curve size, 255 for Ed25519).
      type: int
  sample: {"type": "RSA", "size": 2048}
backup_file:
  description: The copy of the keystore made before it was changed.
  returned: when O(backup=true) and a keystore was changed
  type: str
backup_files:
  description: Every backup made (gateway mode may change two keystores).
  returned: when O(backup=true) and a keystore was changed
  type: list
  elements: str
profile:
  description: Gateway mode. The servers of the SSL profile whose keystore was changed (or checked).
  returned: when O(apim_home) is given
  type: str
  sample: "*"
stores:
  description: Gateway mode. Each keystore written (or checked).
  returned: when O(apim_home) is given
  type: list
  elements: dict
  contains:
    path:
      description: The keystore.
      type: str
    role:
      description: V(live) (what sslprofiles.xml names now), V(persistent) (what deployment.toml keeps), or V(live+persistent) when they are one file.
      type: str
    store_type:
      description: Its format.
      type: str
    changed:
      description: Whether it changed.
      type: bool
    created:
      description: Whether it was created.
      type: bool
    action:
      description: As RV(action), for this keystore.
      type: str
sslprofiles_path:
  description: Gateway mode. The sslprofiles.xml the gateway watches.
  returned: when O(apim_home) is given
  type: str
handshake:
  description: With O(check_endpoint), the backend's answer to the key pair.
  returned: with O(check_endpoint)
  type: dict
  contains:
    endpoint:
      description: O(endpoint).
      type: str
    result:
      description: V(accepted), V(no certificate requested), V(refused), V(handshake failed) or V(unreachable).
      type: str
    reason:
      description: Why, for every result but V(accepted) and V(no certificate requested).
      type: str
touched:
  description: Gateway mode. The file touched to make the gateway reload (in check mode, the one that would be), or null.
  returned: when O(apim_home) is given
  type: str
reload_within_ms:
  description: Gateway mode. How soon the gateway reloads after the touch, in ms (the configured interval, at least 60000).
  returned: when O(apim_home) is given
  type: int
  sample: 600000
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_with_file_attributes, fail_json, settle


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            apim_home=dict(type="path"),
            endpoint=dict(type="str"),
            password=dict(type="str", no_log=True),
            key_password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            alias=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            private_key=dict(type="str", no_log=True),
            private_key_path=dict(type="path", no_log=False),
            private_key_passphrase=dict(type="str", no_log=True),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            pkcs12=dict(type="str", no_log=True),
            pkcs12_path=dict(type="path"),
            pkcs12_password=dict(type="str", no_log=True),
            allow_incomplete_chain=dict(type="bool", default=False),
            allow_ed25519=dict(type="bool", default=False),
            replace=dict(type="bool", default=True),
            allow_expired=dict(type="bool", default=False),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            reload=dict(type="bool", default=True),
            strict_alias=dict(type="bool", default=True),
            check_endpoint=dict(type="bool", default=False),
            timeout=dict(type="int", default=10),
        ),
        mutually_exclusive=[
            ("path", "apim_home"),
            ("private_key", "private_key_path"),
            ("certificate", "certificate_path"),
            ("pkcs12", "pkcs12_path"),
            ("pkcs12", "private_key"),
            ("pkcs12", "private_key_path"),
            ("pkcs12_path", "private_key"),
            ("pkcs12_path", "private_key_path"),
        ],
        required_one_of=[("path", "apim_home")],
        required_by={"endpoint": ("apim_home",)},
        supports_check_mode=True,
        add_file_common_args=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.apim.certificates.plugins.module_utils._keystore import Options, manage, resolve_request

    params = module.params
    options = Options(replace=params["replace"], allow_expired=params["allow_expired"], create=params["create"],
                      backup=params["backup"], reload=params["reload"])
    try:
        request = resolve_request(params)
        if params["check_endpoint"] and (request.state != "present" or not params["endpoint"]):
            raise ApimCertificatesError("check_endpoint needs endpoint (the backend to present the key pair to) and state present")
        result = manage(
            request, options, path=params["path"], password=params["password"],
            key_password=params["key_password"], store_type=params["store_type"], apim_home=params["apim_home"],
            endpoint=params["endpoint"], check_mode=module.check_mode,
        )
        if params["check_endpoint"]:
            from ansible_collections.apim.certificates.plugins.module_utils._client_handshake import present  # pylint: disable=import-outside-toplevel

            result["handshake"] = present(params["endpoint"], request.key_pair, params["timeout"])
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))

    settle(module, result)
    exit_with_file_attributes(module, result)


if __name__ == "__main__":
    main()
