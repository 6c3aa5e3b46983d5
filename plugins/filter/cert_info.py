# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cert_info
short_description: The facts of a certificate, as truststore_info reports them
version_added: 0.1.0
author:
  - apim.certificates maintainers (@apim-certificates)
description:
  - Parses a certificate (PEM, base64 DER, or a PEM bundle, in which case the first certificate) and returns its
    subject, issuer, serial, validity, status, fingerprints, subject alternative names, CA flag, self-signed flag,
    signature algorithm and public key, with the same names and forms as M(apim.certificates.truststore_info).
  - Runs on the controller; needs the cryptography library there.
options:
  _input:
    description: The certificate.
    type: str
    required: true
  all:
    description: Return a list with the facts of every certificate in the input instead of the first one's.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check a certificate before rolling it out
  ansible.builtin.assert:
    that:
      - (backend_pem | apim.certificates.cert_info).status == 'active'
      - (backend_pem | apim.certificates.cert_info).days_remaining > 30

- name: Pin what the file holds
  ansible.builtin.set_fact:
    backend_fingerprint: "{{ (lookup('ansible.builtin.file', 'backend.crt') | apim.certificates.cert_info).fingerprints.sha256 }}"
"""

RETURN = r"""
_value:
  description: The certificate's facts (a list of them with O(all=true)).
  type: dict
  contains:
    subject:
      description: Subject, RFC 4514.
      type: str
    issuer:
      description: Issuer, RFC 4514.
      type: str
    serial_number:
      description: Serial number.
      type: int
    not_before:
      description: Start of validity, UTC, ISO 8601.
      type: str
    not_after:
      description: End of validity, UTC, ISO 8601.
      type: str
    status:
      description: V(active), V(expired) or V(not_yet_valid).
      type: str
    days_remaining:
      description: Whole days until not_after.
      type: int
    fingerprints:
      description: SHA-1 and SHA-256 fingerprints in keytool's form.
      type: dict
    subject_alt_names:
      description: Subject alternative names.
      type: list
      elements: str
    is_ca:
      description: Whether it is a CA certificate.
      type: bool
    self_signed:
      description: Whether it is self-issued (its issuer is its subject and its key identifiers agree; the signature is not checked).
      type: bool
    signature_algorithm:
      description: Signature algorithm.
      type: str
    public_key:
      description: Public key type and size.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._facts import certificate_facts


def cert_info(data, all=False):  # pylint: disable=redefined-builtin
    if not certs.HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("cert_info needs the Python library cryptography on the controller")
    try:
        found = certs.parse_certificates(data if isinstance(data, (str, bytes)) else str(data), "cert_info input")
    except ApimCertificatesError as exc:
        raise AnsibleFilterError(str(exc)) from None
    facts = [certificate_facts(cert) for cert in found]
    return facts if all else facts[0]


class FilterModule:
    def filters(self):
        return {"cert_info": cert_info}
