#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: endpoint_certificate
short_description: Add, replace or remove backend certificates in a Java truststore
version_added: 0.1.0
description:
  - Makes a WSO2 API Manager gateway's truststore (JKS, JCEKS or PKCS12) hold, or not hold, the certificate of a
    backend, under a given alias, without a JRE on the managed node.
  - Idempotent by content: an alias that already holds the same certificate (same SHA-256) is left alone, and the
    store is not rewritten when nothing changes.
  - An alias that holds a different certificate is replaced (O(replace)); an expired certificate is refused, as
    API-M refuses it (O(allow_expired)).
  - The store is read, changed and written under a lock, through a temporary file and an atomic rename, so a
    concurrent run or a crash never leaves a half-written truststore.
author:
  - apim.certificates maintainers
extends_documentation_fragment:
  - apim.certificates.truststore
  - apim.certificates.attributes
  - ansible.builtin.files
options:
  path:
    required: true
  password:
    description:
      - Required to change a store, and used to verify its integrity.
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
  state:
    description:
      - V(present) makes the alias hold the certificate; V(absent) removes the alias (a certificate is not needed).
    type: str
    choices: [present, absent]
    default: present
  chain:
    description:
      - When the content holds several certificates (a bundle or chain), V(all) stores each of them, the first under
        O(alias) and the others under C(<alias>-1), C(<alias>-2), ...; V(leaf) stores the first one only.
    type: str
    choices: [all, leaf]
    default: all
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
  returned: always
  type: str
  sample: /opt/wso2am/repository/resources/security/client-truststore.jks
store_type:
  description: The store's format.
  returned: always
  type: str
  sample: JKS
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
results:
  description: One item per alias handled, in the order given.
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

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._desired import (
    desired_items,
    load_certificate_input,
    validate_alias,
)
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError, CertificateError
from ansible_collections.apim.certificates.plugins.module_utils._truststore import converge_truststore


def requested(params: dict) -> list:
    """The aliases asked for, single or batch, as one list of dicts."""
    if params["certificates"] is not None:
        return [dict(item, source=f"certificates[{index}]") for index, item in enumerate(params["certificates"])]
    return [{
        "alias": params["alias"],
        "certificate": params["certificate"],
        "certificate_path": params["certificate_path"],
        "state": params["state"],
        "source": "certificate",
    }]


def build_desired(params: dict) -> list:
    desired = []
    for item in requested(params):
        alias = validate_alias(item["alias"], strict=params["strict_alias"])
        source = f"{item['source']} for alias '{alias}'"
        chain = None
        if item["state"] == "present":
            if item["certificate"] is None and item["certificate_path"] is None:
                raise CertificateError(f"{source}: state is present but neither certificate nor certificate_path is given")
            if item["certificate"] is not None and item["certificate_path"] is not None:
                raise CertificateError(f"{source}: give certificate or certificate_path, not both")
            chain = load_certificate_input(
                certificate=item["certificate"], certificate_path=item["certificate_path"], source=source
            )
        desired.extend(desired_items(alias, item["state"], chain, chain=params["chain"], tenant_id=params["tenant_id"], source=source))
    return desired


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            alias=dict(type="str"),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            chain=dict(type="str", choices=["all", "leaf"], default="all"),
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
                    state=dict(type="str", choices=["present", "absent"], default="present"),
                ),
            ),
        ),
        mutually_exclusive=[
            ("certificate", "certificate_path"),
            ("certificates", "alias"),
            ("certificates", "certificate"),
            ("certificates", "certificate_path"),
        ],
        required_one_of=[("alias", "certificates")],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=45.0.0"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    try:
        desired = build_desired(params)
        outcome = converge_truststore(
            params["path"],
            params["password"],
            desired,
            store_type=params["store_type"],
            replace=params["replace"],
            allow_expired=params["allow_expired"],
            create=params["create"],
            backup=params["backup"],
            check_mode=module.check_mode,
        )
    except ApimCertificatesError as exc:
        module.fail_json(msg=str(exc))

    for warning in outcome.plan.warnings:
        module.warn(warning)
    result = dict(
        changed=outcome.changed,
        path=params["path"],
        store_type=outcome.store_type,
        created=outcome.created,
        results=outcome.plan.results(),
    )
    if outcome.backup_file:
        result["backup_file"] = outcome.backup_file
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = outcome.diff()
    if os.path.exists(params["path"]):
        file_args = module.load_file_common_arguments(params)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
