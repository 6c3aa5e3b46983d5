#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ssl_profile
short_description: Manage the SSL profiles of a WSO2 API Manager gateway in deployment.toml and sslprofiles.xml
version_added: 0.1.0
description:
  - Manages the parts of C(deployment.toml) that decide which keystore and truststore the gateway's HTTPS sender
    uses per backend C(host:port) -
    C([keystore.tls]) and C([truststore]) (the default C(*) profile), C([[keystore.ssl_profile.custom]]) entries
    (one per backend server list) and the reload C(interval) in C([transport.passthru_https.sender.ssl_profile]).
  - Only the keys given are managed; every other byte of the file (comments, order, spacing, quoting) is kept.
    An option that gives only O(truststore.password) changes only that key.
  - With O(live=true) it also brings the gateway's C(sslprofiles.xml) in line with the result, as WSO2's
    C(sslprofiles.xml.j2) template renders it, which makes a running gateway reload its SSL profiles within one
    interval, without a restart.
  - Everything is planned and checked first (the new TOML is parsed again and must differ only in the managed keys;
    with O(validate_stores=true) every keystore and truststore the result references is opened); then
    C(deployment.toml) and C(sslprofiles.xml) are written atomically under a lock. If writing C(sslprofiles.xml)
    fails, C(deployment.toml) gets its original bytes back.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.attributes
options:
  apim_home:
    description:
      - The API-M home on the managed node; C(deployment.toml) is C(<apim_home>/repository/conf/deployment.toml).
      - Relative store locations resolve against it.
      - Exactly one of O(apim_home) and O(path) is required.
    type: path
  path:
    description:
      - A C(deployment.toml) file, when it is not at its usual place under an API-M home (a configuration
        repository, a template directory).
      - With O(path), O(live) defaults to V(false). When the file is C(<home>/repository/conf/deployment.toml),
        C(<home>) is used as the API-M home.
    type: path
  sslprofiles_path:
    description:
      - The C(sslprofiles.xml) to keep in line with O(path) when O(live=true).
      - With O(apim_home) it comes from C(deployment.toml) (C([transport.passthru_https.sender.ssl_profile] file_path),
        by default C(<apim_home>/repository/resources/security/sslprofiles.xml)); it cannot be given then.
    type: path
  live:
    description:
      - Also render C(sslprofiles.xml) from the result, so a running gateway reloads its SSL profiles within one
        interval.
      - The file is written only when its meaning changes (its profiles, servers, locations, types and passwords are
        compared, not its bytes); writing it advances its modification time, which is what the gateway watches.
      - "The 4.x rule: when the default profile's TrustStore C(Location) in the current file differs from the one
        rendered from C([truststore] file_name) and its file name starts with that store's name without extension
        followed by C(-) (C(client-truststore-temp.jks), C(client-truststore-sender.ks): the copy a 4.x gateway makes
        at start-up and deploys endpoint certificates into), that live C(Location) is kept."
      - Defaults to V(true) with O(apim_home) and V(false) with O(path).
    type: bool
  interval:
    description:
      - How often, in milliseconds, the gateway checks C(sslprofiles.xml) for changes
        (C([transport.passthru_https.sender.ssl_profile] interval); WSO2's default is 600000).
      - At least 60000; a lower value is refused, since Synapse raises it to 60000 anyway.
      - A running gateway uses the interval it was started with; a change takes effect at the next restart.
    type: int
  keystore:
    description:
      - The default profile's keystore, C([keystore.tls]). Only the suboptions given are managed.
      - The store is C(<apim_home>/repository/resources/security/<file_name>).
    type: dict
    suboptions:
      file_name:
        description: The keystore's file name in C(repository/resources/security).
        type: str
      type:
        description: The keystore type, for example V(JKS) or V(PKCS12).
        type: str
      password:
        description: The keystore password, or a C($secret{alias}) reference.
        type: str
      key_password:
        description: The private key's password, or a C($secret{alias}) reference.
        type: str
  truststore:
    description:
      - The default profile's truststore, C([truststore]). Only the suboptions given are managed.
      - The store is C(<apim_home>/repository/resources/security/<file_name>).
    type: dict
    suboptions:
      file_name:
        description: The truststore's file name in C(repository/resources/security).
        type: str
      type:
        description: The truststore type, for example V(JKS) or V(PKCS12).
        type: str
      password:
        description: The truststore password, or a C($secret{alias}) reference.
        type: str
  custom_profiles:
    description:
      - C([[keystore.ssl_profile.custom]]) entries, each identified by its O(custom_profiles[].servers) (the order of
        the entries in a list does not matter).
      - A server may belong to one profile only; a server listed twice in the request, or a profile that would share
        a server with another one, is an error.
      - A new profile is appended after the last existing entry (or at the end of the file) with dotted keys
        (C(keystore.location = ...)); an existing entry keeps its form (dotted keys or
        C([keystore.ssl_profile.custom.truststore]) sub-tables) when it is changed.
      - Removing a profile removes its whole entry, sub-tables included.
    type: list
    elements: dict
    suboptions:
      servers:
        description:
          - Comma-separated C(host:port) entries, for example V(orders.internal:443,orders-dr.internal:443).
            A port (1 to 65535) is required; C(*) is the default profile and cannot be given.
          - An IP address is accepted with a warning; WSO2 advises host names.
        type: str
        required: true
      keystore:
        description:
          - The profile's keystore. A new profile needs O(custom_profiles[].keystore.location) and
            O(custom_profiles[].keystore.password).
        type: dict
        suboptions:
          location:
            description: The keystore file, absolute or relative to the API-M home.
            type: str
          type:
            description: The keystore type. A new profile gets V(JKS) when it is not given.
            type: str
          password:
            description: The keystore password.
            type: str
          key_password:
            description: The private key's password. A new profile gets the keystore password when it is not given.
            type: str
      truststore:
        description:
          - The profile's truststore. A new profile needs O(custom_profiles[].truststore.location) and
            O(custom_profiles[].truststore.password).
        type: dict
        suboptions:
          location:
            description: The truststore file, absolute or relative to the API-M home.
            type: str
          type:
            description: The truststore type. A new profile gets V(JKS) when it is not given.
            type: str
          password:
            description: The truststore password.
            type: str
      state:
        description: V(present) adds or updates the profile; V(absent) removes it.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
      - Remove every custom profile that O(custom_profiles) does not list.
    type: bool
    default: false
  validate_stores:
    description:
      - Before writing anything, open every keystore and truststore the result references (in C(deployment.toml) and,
        with O(live=true), in C(sslprofiles.xml)) with its password and type, and fail naming the store and the reason
        when one cannot be opened.
      - A store whose password is a C($secret{...}) reference cannot be opened; it is skipped with a warning.
      - Checked only when something is to be written. Key passwords are not checked.
    type: bool
    default: true
  backup:
    description:
      - Keep a copy of each file this module changes, next to it. Their paths are returned in RV(backup_file) and
        RV(sslprofiles_backup_file).
    type: bool
    default: false
requirements:
  - tomlkit >= 0.9.2 on the managed node.
  - cryptography >= 3.4.8 on the managed node, for O(validate_stores) (validating a PKCS12 store needs >= 36.0.0).
    See docs/managed-nodes.md for the OS package of each distribution.
notes:
  - Passwords are never logged, returned or shown in a diff (every password value is masked as C(********)).
    Ansible also masks every occurrence of a C(no_log) value in the output, except a password that is also an alias
    or part of a path the task names or returns (WSO2's default V(wso2carbon) is in C(wso2carbon.jks)), so such a value is
    returned as it is, so file names stay readable.
  - Values are compared as WSO2 reads them (its defaults for absent keys, C($ref{...}) resolved), so asking for the
    value a key already has in effect changes nothing.
  - Changes to O(interval), O(keystore) or O(truststore) take effect at the gateway's next restart (RV(restart_required));
    custom profiles take effect within one interval when O(live=true).
  - C($env{...}) and C($sys{...}) values (other than C($sys{carbon.home})) are resolved by the gateway at start-up;
    with O(live=true) a profile that uses one is refused.
  - See C(docs/ssl_profile.md) in the collection for the file layouts this module reads and writes.
seealso:
  - module: apim.certificates.endpoint_certificate
  - module: apim.certificates.truststore_info
"""

EXAMPLES = r"""
- name: A backend with its own truststore, picked up by the running gateway within one interval
  apim.certificates.ssl_profile:
    apim_home: /opt/wso2am-4.2.0
    custom_profiles:
      - servers: orders.internal:443,orders-dr.internal:443
        keystore:
          location: repository/resources/security/wso2carbon.jks
          password: "{{ keystore_password }}"
        truststore:
          location: /etc/pki/wso2/orders-truststore.jks
          password: "{{ orders_truststore_password }}"

- name: Change only the default truststore's password in deployment.toml
  apim.certificates.ssl_profile:
    apim_home: /opt/wso2am-4.2.0
    truststore:
      password: "{{ truststore_password }}"

- name: Exactly these custom profiles, and a two-minute reload interval, in a deployment.toml kept in git
  apim.certificates.ssl_profile:
    path: "{{ config_repo }}/gateway/deployment.toml"
    interval: 120000
    exclusive: true
    validate_stores: false
    custom_profiles:
      - servers: payments.internal:8443
        keystore:
          location: repository/resources/security/wso2carbon.jks
          password: $secret{keystore_password}
        truststore:
          location: repository/resources/security/payments-truststore.p12
          type: PKCS12
          password: $secret{payments_truststore_password}

- name: Remove a retired backend's profile, keeping copies of both files
  apim.certificates.ssl_profile:
    apim_home: /opt/wso2am-4.2.0
    backup: true
    custom_profiles:
      - servers: legacy.internal:443
        state: absent
  register: profiles
"""

RETURN = r"""
deployment_toml:
  description: The C(deployment.toml) managed.
  returned: always
  type: str
  sample: /opt/wso2am-4.2.0/repository/conf/deployment.toml
deployment_toml_changed:
  description: Whether C(deployment.toml) was (or, in check mode, would be) changed.
  returned: always
  type: bool
  sample: true
sslprofiles_path:
  description: The C(sslprofiles.xml) kept in line; null when O(live=false).
  returned: always
  type: str
  sample: /opt/wso2am-4.2.0/repository/resources/security/sslprofiles.xml
sslprofiles_changed:
  description: Whether C(sslprofiles.xml) was (or would be) rewritten, which makes the gateway reload its profiles.
  returned: always
  type: bool
  sample: true
profiles:
  description:
    - The resulting SSL profiles in the gateway's order (the default C(*) profile first, then each custom profile in
      C(deployment.toml) order), as C(sslprofiles.xml) has them with O(live=true). No passwords.
  returned: always
  type: list
  elements: dict
  contains:
    servers:
      description: The profile's servers, as written.
      type: str
      sample: orders.internal:443
    keystore:
      description: The profile's keystore.
      type: dict
      contains:
        location:
          description: The keystore file, as written.
          type: str
          sample: repository/resources/security/wso2carbon.jks
        type:
          description: The keystore type.
          type: str
          sample: JKS
    truststore:
      description: The profile's truststore.
      type: dict
      contains:
        location:
          description: The truststore file, as written (for the default profile on a 4.x gateway, its live copy).
          type: str
          sample: repository/resources/security/client-truststore-temp.jks
        type:
          description: The truststore type.
          type: str
          sample: JKS
actions:
  description:
    - For each custom profile, V(added), V(updated), V(removed) or V(unchanged); in check mode, what a real run would
      do. Keyed by the servers as C(deployment.toml) writes them (as given, for a profile added).
  returned: always
  type: dict
  sample: {"orders.internal:443": "added", "legacy.internal:443": "removed"}
interval:
  description: The resulting C([transport.passthru_https.sender.ssl_profile] interval), in milliseconds.
  returned: always
  type: int
  sample: 600000
reload_within_ms:
  description:
    - With O(live=true), how soon the running gateway picks up C(sslprofiles.xml) after it is written - the interval
      it was started with (at least 60000). Null when O(live=false).
  returned: always
  type: int
  sample: 600000
restart_required:
  description:
    - Whether part of the change only takes effect when the gateway restarts - any change with O(live=false), or a
      change of O(interval), O(keystore) or O(truststore).
  returned: always
  type: bool
  sample: false
backup_file:
  description: The copy of C(deployment.toml) made before it was changed.
  returned: when O(backup=true) and C(deployment.toml) was changed
  type: str
  sample: /opt/wso2am-4.2.0/repository/conf/deployment.toml.4242.2026-11-27@10:00:00~
sslprofiles_backup_file:
  description: The copy of C(sslprofiles.xml) made before it was changed.
  returned: when O(backup=true) and C(sslprofiles.xml) was changed
  type: str
  sample: /opt/wso2am-4.2.0/repository/resources/security/sslprofiles.xml.4242.2026-11-27@10:00:00~
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profile_request import Request
from ansible_collections.apim.certificates.plugins.module_utils._ssl_profiles import converge
from ansible_collections.apim.certificates.plugins.module_utils._wso2_config import HAS_TOMLKIT


def _store_options(name_option: str, key_password: bool) -> dict:
    options = {
        name_option: dict(type="str"),
        "type": dict(type="str"),
        "password": dict(type="str", no_log=True),
    }
    if key_password:
        options["key_password"] = dict(type="str", no_log=True)
    return options


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apim_home=dict(type="path"),
            path=dict(type="path"),
            sslprofiles_path=dict(type="path"),
            live=dict(type="bool"),
            interval=dict(type="int"),
            keystore=dict(type="dict", no_log=False, options=_store_options("file_name", key_password=True)),
            truststore=dict(type="dict", options=_store_options("file_name", key_password=False)),
            custom_profiles=dict(
                type="list",
                elements="dict",
                options=dict(
                    servers=dict(type="str", required=True),
                    keystore=dict(type="dict", no_log=False, options=_store_options("location", key_password=True)),
                    truststore=dict(type="dict", options=_store_options("location", key_password=False)),
                    state=dict(type="str", choices=["present", "absent"], default="present"),
                ),
            ),
            exclusive=dict(type="bool", default=False),
            validate_stores=dict(type="bool", default=True),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("apim_home", "path"), ("apim_home", "sslprofiles_path")],
        required_one_of=[("apim_home", "path")],
        supports_check_mode=True,
    )
    if not HAS_TOMLKIT:
        module.fail_json(msg=missing_required_lib("tomlkit>=0.9.2", reason="editing deployment.toml"))
    if module.params["validate_stores"] and not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8", reason="validate_stores"),
                         exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    try:
        request = Request.from_params(module.params)
        outcome = converge(request, check_mode=module.check_mode, backup=module.params["backup"])
        result = outcome.result(diff=module._diff)  # pylint: disable=protected-access
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # never a traceback: an unforeseen failure is still a task failure with a message (kept under Ansible's
        # value masking, since its text is not ours)
        module.fail_json(msg=f"ssl_profile failed unexpectedly ({type(exc).__name__}: {exc})")

    for warning in outcome.warnings:
        module.warn(warning)
    exit_json(module, **result)


if __name__ == "__main__":
    main()
