#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

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
  - apim.certificates maintainers
extends_documentation_fragment:
  - apim.certificates.truststore
  - apim.certificates.attributes.info_module
options:
  path:
    required: true
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
  description: The truststore that was read.
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
      description: Whether the certificate is issued by its own subject and its signature verifies with its own key.
      type: bool
      sample: true
    signature_algorithm:
      description: The certificate's signature algorithm.
      type: str
      sample: sha256WithRSAEncryption
    public_key:
      description: The certificate's public key.
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

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._truststore import entry_facts, load_truststore, normalize_alias


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            alias=dict(type="list", elements="str"),
            expiring_within_days=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=45.0.0"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    try:
        store = load_truststore(params["path"], params["password"], params["store_type"])
        wanted = [normalize_alias(a) for a in params["alias"]] if params["alias"] is not None else None
        selected = [e for alias, e in store.entries.items() if wanted is None or alias in wanted]
        entries = [entry_facts(entry) for entry in selected]
    except ApimCertificatesError as exc:
        module.fail_json(msg=str(exc))

    if not store.integrity_verified:
        module.warn(f"no password given: the integrity of {params['path']} was not verified")
    window = params["expiring_within_days"]
    expiring = [e["alias"] for e in entries if e["days_remaining"] is not None and e["days_remaining"] < window]
    module.exit_json(
        changed=False,
        path=params["path"],
        store_type=store.store_type,
        integrity_verified=store.integrity_verified,
        entries=entries,
        count=len(entries),
        expiring=expiring,
        missing=[a for a in (wanted or []) if a not in store.entries],
    )


if __name__ == "__main__":
    main()
