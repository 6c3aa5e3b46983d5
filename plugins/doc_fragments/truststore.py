# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options that name and open a Java truststore."""

    DOCUMENTATION = r"""
options:
  path:
    description:
      - Path of the truststore on the managed node, for example
        C(<API-M_HOME>/repository/resources/security/client-truststore.jks).
    type: path
  password:
    description:
      - The truststore password. WSO2's default is C(wso2carbon).
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  store_type:
    description:
      - The truststore's format. V(auto) detects it from the file's bytes.
      - A declared type that disagrees with the file's bytes is an error that names both.
      - Case-insensitive; V(p12) and V(pfx) are read as V(PKCS12).
    type: str
    default: auto
"""

    # The managed-node libraries of every module that opens truststores (gateway_trust has no O(path) option).
    REQUIREMENTS = r"""
options: {}
requirements:
  - cryptography >= 3.4.8 on the managed node (reading PKCS12 stores needs >= 36.0.0, writing them >= 45.0.0;
    JKS and JCEKS work with every version). See docs/managed-nodes.md for the OS package of each distribution.
  - tomlkit >= 0.9.2 on the managed node in gateway mode (O(apim_home)); on Python 3.11+ the standard library
    reads deployment.toml when tomlkit is absent.
  - pyjks, only to read a JCEKS store that holds secret keys.
notes:
  - No JRE or keytool is needed on the managed node.
  - Aliases are case-insensitive, as in Java, and are stored and reported in lower case.
"""
