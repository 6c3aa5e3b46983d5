#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: truststore_info
short_description: Report what a Java truststore holds
version_added: 0.1.0
description:
  - Lists the entries of a JKS, JCEKS or PKCS12 truststore, such as a WSO2 API Manager gateway's
    C(client-truststore.jks), with each certificate's subject, issuer, validity, status and fingerprints.
  - Reads the store without a JRE. Never changes anything.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.truststore
  - apim.certificates.truststore.requirements
  - apim.certificates.attributes.info_module
options:
  path:
    description:
      - The truststore to report. Mutually exclusive with O(apim_home); one of them is required.
  apim_home:
    description:
      - Gateway mode. The API-M home of a gateway node. The report covers the truststore the default SSL profile
        uses now (as C(sslprofiles.xml) names it; on 4.x the start-up copy) as the top-level RV(entries), and each of
        the live and persistent truststores in RV(stores), with the node's SSL settings in RV(gateway).
      - O(password) defaults to each store's password as C(deployment.toml) and C(sslprofiles.xml) give it.
    type: path
  password:
    description:
      - Without a password a JKS or JCEKS store is still listed, with a warning that its integrity was not verified.
        A PKCS12 store cannot be read without its password.
  alias:
    description:
      - Report only these aliases (case-insensitive). Aliases that are not in the store are listed in RV(missing).
    type: list
    elements: str
  expiring_within_days:
    description:
      - Aliases whose certificate expires within this many days, or has already expired, are listed in RV(expiring).
    type: int
    default: 30
  content:
    description:
      - Also return each certificate in PEM (RV(entries[].pem)), for example to copy it to other nodes.
    type: bool
    default: false
  verify_endpoints:
    description:
      - Backends (C(https://host:port/...) or C(host:port)) to check, from the managed node, against the truststore
        that would serve them. Does the presented chain build to a certificate in the store, is every certificate on
        the path within its validity, and does the host name pass the HostnameVerifier. See RV(trust_checks).
    type: list
    elements: str
    default: []
  hostname_verifier:
    description:
      - How RV(trust_checks) verify host names. Defaults to the gateway's
        C([transport.passthru_https.sender.parameters] HostnameVerifier) in gateway mode, else V(DefaultAndLocalhost)
        (WSO2's default).
    type: str
    choices: [Strict, Default, DefaultAndLocalhost, AllowAll]
  timeout:
    description:
      - Seconds to wait for each endpoint of O(verify_endpoints).
    type: int
    default: 10
seealso:
  - module: apim.certificates.endpoint_certificate
"""

EXAMPLES = r"""
- name: Report the gateway truststore
  apim.certificates.truststore_info:
    path: /opt/wso2am/repository/resources/security/client-truststore.jks
    password: "{{ truststore_password }}"
  register: truststore

- name: Fail when a backend certificate expires within 30 days
  ansible.builtin.assert:
    that: truststore.expiring | length == 0
    fail_msg: "Expiring soon: {{ truststore.expiring | join(', ') }}"

- name: Report a gateway node and check that it trusts its backends now
  apim.certificates.truststore_info:
    apim_home: /opt/wso2am-4.2.0
    verify_endpoints:
      - https://orders.internal:8443/
  register: node

- name: Fail when a backend would not be trusted
  ansible.builtin.assert:
    that: node.trust_checks | rejectattr('trusted') | list | length == 0
    fail_msg: "{{ node.trust_checks | rejectattr('trusted') | map(attribute='reason') | list }}"

- name: Look at two aliases only
  apim.certificates.truststore_info:
    path: /opt/wso2am/repository/resources/security/client-truststore.jks
    password: "{{ truststore_password }}"
    alias:
      - backend-orders
      - backend-payments
    expiring_within_days: 60
"""

RETURN = r"""
path:
  description: The truststore that was read (in gateway mode, the live truststore of the default profile).
  returned: always
  type: str
  sample: /opt/wso2am/repository/resources/security/client-truststore.jks
store_type:
  description: The store's format, detected from its bytes.
  returned: always
  type: str
  sample: JKS
integrity_verified:
  description: Whether the store's integrity was checked with its password.
  returned: always
  type: bool
  sample: true
count:
  description: The number of entries in RV(entries).
  returned: always
  type: int
  sample: 146
expiring:
  description: Aliases among RV(entries) whose certificate expires within O(expiring_within_days) days or has expired.
  returned: always
  type: list
  elements: str
  sample: [backend-orders]
missing:
  description: Aliases asked for in O(alias) that the store does not hold.
  returned: always
  type: list
  elements: str
  sample: []
duplicates:
  description: Certificates the store holds under more than one alias.
  returned: always
  type: list
  elements: dict
  contains:
    fingerprint:
      description: SHA-256 fingerprint of the certificate.
      type: str
    aliases:
      description: The aliases holding it.
      type: list
      elements: str
untrusted_certificates:
  description:
    - Certificates a store holds that are no entry for Java, so Java does not trust them, with the reason.
    - In a PKCS12 file, certificate bags without Oracle's trusted-key-usage attribute (2.16.840.1.113894.746875.1.1)
      outside any key entry's chain, as C(openssl pkcs12 -export -nokeys) writes them. keytool does not list them.
    - In a JKS or JCEKS file, entries another tool stored under an alias with upper case. Java lists them but looks
      every alias up lower-cased, so it never finds them, and keytool -list fails on the store.
    - The module warns. M(apim.certificates.endpoint_certificate) keeps them byte for byte when it rewrites the
      store (they stay untrusted); state V(absent) for the lower-case alias removes an upper-case JKS/JCEKS entry.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: The certificate's subject, RFC 4514.
      type: str
    fingerprint:
      description: SHA-256 fingerprint of the certificate.
      type: str
    reason:
      description: Why Java does not trust it.
      type: str
stores:
  description: Gateway mode. The live and persistent truststores, each reported as the top level reports one store
    (path, store_type, integrity_verified, entries, count, expiring, missing, duplicates, untrusted_certificates),
    with its role.
  returned: when O(apim_home) is given
  type: list
  elements: dict
  contains:
    role:
      description:
        - V(live), V(persistent), or V(live+persistent) when they are one file. V(listener) for the HTTPS listener's
          truststore when it is another file (listenerprofiles.xml names it).
      type: str
    used_by:
      description:
        - Which SSL profile families use this store now. V(sender (<servers>)) for a sender profile of
          sslprofiles.xml (V(sender (*)) for the default one). V(listener) for the HTTPS listener of
          listenerprofiles.xml, which checks API consumers' client certificates against it.
        - Empty for a store that only a restart would use (the persistent store of a 4.x gateway).
      type: list
      elements: str
      sample: ["listener"]
    path:
      description: The store.
      type: str
    entries:
      description: As RV(entries).
      type: list
      elements: dict
gateway:
  description: Gateway mode. What the node's configuration says about trust.
  returned: when O(apim_home) is given
  type: dict
  contains:
    apim_home:
      description: The API-M home.
      type: str
    deployment_toml:
      description: Path of deployment.toml.
      type: str
    sslprofiles_path:
      description: Path of the live sslprofiles.xml.
      type: str
    reload_within_ms:
      description: How soon the gateway reloads after sslprofiles.xml is touched (the interval, at least 60000).
      type: int
    hostname_verifier:
      description: The sender's HostnameVerifier setting.
      type: str
    persistent_truststore:
      description: The truststore deployment.toml configures.
      type: str
    profiles:
      description: The live SSL profiles, in file order, with their servers, truststore and keystore paths.
      type: list
      elements: dict
    listener:
      description:
        - The HTTPS listener's profile as listenerprofiles.xml has it now (null where the node has none).
        - C(path), the C(truststore) and C(keystore) paths, C(settings) (its other elements as written, for example
          C(SSLVerifyClient)) and C(reload_within_ms). That last one gives, per reloader, how soon it picks up a
          change. C(listenerprofiles.xml) when that file is touched (C([transport.passthru_https.listener]
          ssl_profile_interval)), and C(header certificate reloader) for client certificates a load balancer forwards
          in a header (C([apim.certificate_reloader] period), which watches the store's own modification time).
      type: dict
keystores:
  description:
    - Gateway mode. Each keystore a live SSL profile of C(sslprofiles.xml) presents to backends that require client
      certificates (mutual TLS), with its key entries. Nothing is decrypted and no key is ever returned.
    - A module warning comes for each key entry whose certificate has expired or expires within
      O(expiring_within_days).
  returned: when O(apim_home) is given
  type: list
  elements: dict
  contains:
    path:
      description: The keystore.
      type: str
    profiles:
      description: The servers of each live SSL profile that uses it.
      type: list
      elements: str
    store_type:
      description: Its format; null when it could not be read.
      type: str
    integrity_verified:
      description: Whether it was read with its password (a protected password in sslprofiles.xml is not used).
      type: bool
    error:
      description: Why it could not be read (a warning says it too), or null.
      type: str
    key_entries:
      description: One item per key entry.
      type: list
      elements: dict
      contains:
        alias:
          description: The entry's alias.
          type: str
        chain:
          description: Its chain, leaf first, as RV(entries[].chain).
          type: list
          elements: dict
        key:
          description: The key's C(type) and C(size) in bits, read from its certificate.
          type: dict
        not_after:
          description: End of the leaf certificate's validity, UTC, ISO 8601.
          type: str
        days_remaining:
          description: Whole days until RV(keystores[].key_entries[].not_after); negative once expired.
          type: int
trust_checks:
  description: One verdict per O(verify_endpoints) item.
  returned: always
  type: list
  elements: dict
  contains:
    endpoint:
      description: The endpoint as given.
      type: str
    host:
      description: Its host.
      type: str
    port:
      description: Its port.
      type: int
    profile:
      description: Gateway mode. The servers of the SSL profile that serves it.
      type: str
    truststore:
      description: The truststore checked.
      type: str
    hostname_verifier:
      description: The verifier applied.
      type: str
    fingerprint:
      description: SHA-256 of the certificate the endpoint presented, or null if it could not be reached.
      type: str
    trusted:
      description: Whether the gateway would trust the endpoint now.
      type: bool
    reason:
      description: Why not, or null.
      type: str
    anchor:
      description: The alias of the stored certificate the chain builds to.
      type: str
    trusted_by:
      description:
        - V(leaf) when the store trusts the endpoint through the served leaf itself (its next renewal breaks that
          trust), V(ca) through a CA, null when it does not trust it.
      type: str
    served_chain:
      description: SHA-256 of each certificate the endpoint presented, leaf first (empty when it could not be reached).
      type: list
      elements: str
    served_leaf:
      description: The served leaf's life, or null when it could not be reached or read.
      type: dict
      contains:
        subject:
          description: Its subject (RFC 4514).
          type: str
        issuer:
          description: Its issuer (RFC 4514).
          type: str
        not_after:
          description: End of validity, UTC, ISO 8601.
          type: str
        days_remaining:
          description: Whole days left (negative once expired).
          type: int
entries:
  description: One item per entry, in the store's order.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The entry's alias, lower-case as Java reports it.
      type: str
      sample: backend-orders
    entry_type:
      description: V(trustedCertEntry), V(PrivateKeyEntry) or V(SecretKeyEntry), as keytool names them.
      type: str
      sample: trustedCertEntry
    subject:
      description: The certificate's subject, RFC 4514. Null for a secret key entry, as are all the certificate facts below.
      type: str
      sample: CN=orders.internal,O=Example
    issuer:
      description: The certificate's issuer, RFC 4514.
      type: str
      sample: CN=Example Internal CA,O=Example
    serial_number:
      description: The certificate's serial number.
      type: int
      sample: 1234567890
    not_before:
      description: Start of validity, UTC, ISO 8601.
      type: str
      sample: "2026-01-01T00:00:00Z"
    not_after:
      description: End of validity, UTC, ISO 8601.
      type: str
      sample: "2027-01-01T00:00:00Z"
    status:
      description: V(active), V(expired) or V(not_yet_valid).
      type: str
      sample: active
    days_remaining:
      description: Whole days until RV(entries[].not_after); negative once expired.
      type: int
      sample: 35
    fingerprints:
      description: Fingerprints of the DER certificate in keytool's form (upper-case hex bytes joined by colons).
      type: dict
      contains:
        sha1:
          description: SHA-1 fingerprint.
          type: str
          sample: "A1:4B:48:D9:43:EE:0A:0E:40:90:4F:3C:E0:A4:C0:91:93:51:5D:3F"
        sha256:
          description: SHA-256 fingerprint.
          type: str
          sample: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
    subject_alt_names:
      description: Subject alternative names, prefixed with their kind (V(DNS:), V(IP:), V(email:), V(URI:)).
      type: list
      elements: str
      sample: ["DNS:orders.internal", "IP:10.0.0.5"]
    is_ca:
      description: Whether the certificate's basic constraints make it a CA.
      type: bool
      sample: false
    self_signed:
      description:
        - Whether the certificate is self-issued. Its issuer is its subject and its authority key identifier, if any,
          is its own key's. The signature is not checked (keytool -list does not check it either), so root CAs signed
          with SHA-1 count too.
      type: bool
      sample: true
    signature_algorithm:
      description: The certificate's signature algorithm.
      type: str
      sample: sha256WithRSAEncryption
    pem:
      description: The certificate in PEM.
      type: str
      returned: when O(content=true)
    java_error:
      description:
        - Null when Java's CertificateFactory reads the certificate. Otherwise Java's reason for refusing it. keytool
          and the gateway then refuse the whole store, and the module warns. See docs/java-rules.md.
      type: str
      sample: Only named ECParameters supported
    unread_facts:
      description:
        - Null when cryptography reads the whole certificate. Otherwise why it cannot (for example an x400Address
          name, which Java reads). The subject, issuer, validity and fingerprints are then read from the DER as Java
          reads them, and the facts that need cryptography (serial_number, subject_alt_names, is_ca,
          signature_algorithm, public_key) are null.
      type: str
      sample: "cryptography cannot read this certificate (UnsupportedGeneralNameType: x400Address/EDIPartyName are not supported types)"
    chain:
      description:
        - The certificate chain of a key entry, leaf first (the entry's other facts are its leaf's; its key is never
          read). A warning comes when the leaf has expired or expires within O(expiring_within_days).
      type: list
      elements: dict
      returned: for PrivateKeyEntry entries
      contains:
        subject:
          description: The certificate's subject, RFC 4514.
          type: str
        issuer:
          description: The certificate's issuer, RFC 4514.
          type: str
        fingerprint:
          description: SHA-256 fingerprint, keytool's form.
          type: str
        not_after:
          description: End of validity, UTC, ISO 8601.
          type: str
        days_remaining:
          description: Whole days until then; negative once expired.
          type: int
    public_key:
      description: The certificate's public key (for a key entry, its key's type and size).
      type: dict
      contains:
        type:
          description: V(RSA), V(EC), V(Ed25519), V(Ed448) or V(DSA).
          type: str
          sample: RSA
        size:
          description: Key size in bits.
          type: int
          sample: 2048
        curve:
          description: The curve of an EC key.
          type: str
          returned: for EC keys
          sample: secp256r1
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json
from ansible_collections.apim.certificates.plugins.module_utils._info import report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            apim_home=dict(type="path"),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            alias=dict(type="list", elements="str"),
            expiring_within_days=dict(type="int", default=30),
            content=dict(type="bool", default=False),
            verify_endpoints=dict(type="list", elements="str", default=[]),
            hostname_verifier=dict(type="str", choices=["Strict", "Default", "DefaultAndLocalhost", "AllowAll"]),
            timeout=dict(type="int", default=10),
        ),
        mutually_exclusive=[("path", "apim_home")],
        required_one_of=[("path", "apim_home")],
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    try:
        result, warnings = report(
            path=params["path"], apim_home=params["apim_home"], password=params["password"],
            store_type=params["store_type"], aliases=params["alias"],
            expiring_within_days=params["expiring_within_days"], content=params["content"],
            verify_endpoints=params["verify_endpoints"], hostname_verifier=params["hostname_verifier"],
            timeout=params["timeout"],
        )
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    for warning in warnings:
        module.warn(warning)
    exit_json(module, changed=False, **result)


if __name__ == "__main__":
    main()
