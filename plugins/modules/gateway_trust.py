#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gateway_trust
short_description: Converge a gateway node's trusted certificates and report its trust state, in one run
version_added: 0.2.0
description:
  - Everything the M(apim.certificates.gateway_sync) role needs from one WSO2 API-M gateway node, in one module run
    (one SSH round trip with pipelining).
  - Reads the node's live truststore (the one the default SSL profile uses now, as C(sslprofiles.xml) names it) and
    its persistent truststore (as C(deployment.toml) configures it), works out what the node must hold
    (O(certificates), O(remove_aliases), and with O(prune) every alias the source does not name), converges both
    stores as M(apim.certificates.endpoint_certificate) does in gateway mode, re-reads what it wrote, lists the
    certificates that expire soon, and checks from the node that the endpoints of O(certificates) are trusted.
  - Returns the stores before and after the run (RV(before), RV(after)). Stock entries (O(protected_aliases),
    O(stock_alias_pattern)) are counted there, not listed, unless the run names them.
  - In check mode nothing is written, RV(results) and RV(after) are what a real run would do and leave, and the trust
    checks run against that predicted state.
author:
  - apim.certificates maintainers (@apim-certificates)
extends_documentation_fragment:
  - apim.certificates.truststore.requirements
  - apim.certificates.attributes
options:
  apim_home:
    description:
      - The API-M installation directory of the gateway node (C(<API-M_HOME>)).
    type: path
    required: true
  password:
    description:
      - The truststore password, for every store the run reads or changes, and to verify their integrity.
      - Defaults to each store's password as C(deployment.toml) and C(sslprofiles.xml) give it in plain text. A
        password protected by secure vault (C($secret{...})) must be given here.
      - Never logged, never shown in a diff, a result or an error message.
    type: str
  store_type:
    description:
      - The truststores' format. V(auto) detects it from each file's bytes.
    type: str
    default: auto
  certificates:
    description:
      - The certificates the node must hold (or, with O(certificates[].state=absent), not hold), each under its alias.
      - Each one goes into the live truststore of the SSL profile that serves its endpoint (the C(*) profile without
        an endpoint) and into the persistent truststore C(deployment.toml) keeps for that profile.
      - Aliases must be unique (case-insensitive).
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description: The alias (case-insensitive, stored lower-case).
        type: str
        required: true
      certificate:
        description: The certificate's content (PEM, base64 DER or a PEM PKCS#7 bundle).
        type: str
      certificate_path:
        description: A certificate file on the node.
        type: path
      endpoint:
        description:
          - The backend, as C(https://host:port[/path]) or C(host:port). Without O(certificates[].certificate) or
            O(certificates[].certificate_path) the certificate is fetched from it, from the node. It also selects the
            SSL profile, and is checked for trust (O(verify_endpoints)).
          - Not fetched again when it is pinned (O(certificates[].fingerprint)), served by the default SSL profile,
            and both truststores already hold that certificate under the alias. The trust check still connects.
        type: str
      fingerprint:
        description:
          - A certificate SHA-256 pin. It matches the leaf or a CA of the chain's verified path, as
            M(apim.certificates.endpoint_certificate)'s O(apim.certificates.endpoint_certificate#module:fingerprint)
            does. A chain that matches no pin fails and writes nothing.
        type: str
      spki_pins:
        description:
          - SubjectPublicKeyInfo SHA-256 pins (C(sha256/<base64>) or 64 hex digits), on the leaf or a CA of the
            verified path; one match is enough (a backup pin), as in M(apim.certificates.endpoint_certificate).
        type: list
        elements: str
      chain:
        description:
          - What to trust of the chain the content or the endpoint gives. V(leaf) (the default for a fetched
            chain) breaks at the leaf's next renewal; V(issuer) trusts the CA that signed the leaf and V(root) the
            topmost CA, verified by signature; V(all) (the default for given content) stores every certificate.
            As M(apim.certificates.endpoint_certificate)'s O(apim.certificates.endpoint_certificate#module:chain).
        type: str
        choices: [all, leaf, issuer, root]
        aliases: [trust]
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  remove_aliases:
    description:
      - Aliases to remove from both stores (ignored for aliases O(certificates) names).
    type: list
    elements: str
    default: []
  prune:
    description:
      - Also remove every alias either store holds that O(certificates) and O(remove_aliases) do not name, except stock
        entries, the chain members C(<alias>-N) of a named alias, and API client certificates
        (C(PRODUCTION_<alias>_<tenantId>), C(SANDBOX_...)), which the gateway writes for mutual-SSL APIs into the
        same C(client-truststore.jks) and which belong to the Publisher (see RV(owned_elsewhere)). Without it they
        are listed in RV(unmanaged).
      - An alias named in O(remove_aliases) is removed whoever owns it.
    type: bool
    default: false
  drop:
    description:
      - Filters that remove trusted certificates the run does not name, as cert-manager's trust-manager filters a
        bundle. V(expired) removes every certificate whose validity has ended. V(unserved_leaves) removes every
        certificate that is not a CA (no C(basicConstraints) cA) and that no endpoint of O(certificates) serves now
        (the node asks each endpoint; when one cannot be asked, this filter removes nothing and says why).
      - Never removed by a filter - an alias O(certificates) names and its chain members C(<alias>-N); an API client
        certificate (see RV(owned_elsewhere)); a key entry; a certificate the node cannot read; a stock entry
        unless O(drop_stock).
      - Only the endpoints this run declares count as served. A backend nobody declared is not asked, so a leaf
        only it serves is removed; declare every endpoint the gateway calls before using V(unserved_leaves).
      - What was removed, and why, is in RV(dropped). Check mode predicts it.
    type: list
    elements: str
    choices: [expired, unserved_leaves]
    default: []
  drop_stock:
    description: Let O(drop) remove stock entries too (O(protected_aliases), O(stock_alias_pattern)), such as an expired CA WSO2 ships.
    type: bool
    default: false
  protected_aliases:
    description: Aliases that count as stock. They are never pruned and are only counted in RV(before) and RV(after).
    type: list
    elements: str
    default: [wso2carbon, gateway_certificate_alias]
  stock_alias_pattern:
    description: A regular expression of aliases that count as stock (WSO2 ships the JDK's CAs as C(<name> [jdk])). Empty for none.
    type: str
    default: '\s\[jdk\]$'
  strict_alias:
    description: Enforce API-M's alias rules (1 to 30 characters, no white space), as M(apim.certificates.endpoint_certificate) does.
    type: bool
    default: true
  allow_expired:
    description: Store a certificate even though it has expired.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each endpoint (fetching a certificate, and each trust check).
    type: int
    default: 10
  backup:
    description: Keep a copy of each store as it was, next to it, before changing it (RV(backup_files)).
    type: bool
    default: false
  reload:
    description: Touch C(sslprofiles.xml) when a store changed, so the gateway reloads its SSL profiles within one interval.
    type: bool
    default: true
  expiring_within_days:
    description: Certificates (other than stock entries) that expire within this many days, or have expired, are listed in RV(expiring).
    type: int
    default: 30
  verify_endpoints:
    description:
      - Check from the node, after converging, that every endpoint of a present certificate is trusted by the store
        of the SSL profile that serves it (RV(trust_checks)).
    type: bool
    default: true
  listener_certificates:
    description:
      - The HTTPS listener's client certificates (mutual SSL for APIs), converged after the sender's trust, as
        M(apim.certificates.listener_certificate) does - into the listener's truststore (C(listenerprofiles.xml)) and
        the persistent truststore, under the gateway's names C(<KEYTYPE>_<alias>_<tenantId>), touching
        C(listenerprofiles.xml). Empty or null (the default) leaves the listener side alone, unless
        O(listener_exclusive) or O(listener_checks) ask for it; the result is in RV(listener).
    type: list
    elements: dict
    suboptions:
      alias:
        description: The alias as the Publisher names it.
        type: str
        required: true
      key_type:
        description: The key type of the API's keys.
        type: str
        choices: [PRODUCTION, SANDBOX]
        default: PRODUCTION
      tenant_id:
        description: The tenant's id; the super tenant is C(-1234).
        type: int
        default: -1234
      certificate:
        description: One certificate, PEM or base64 DER.
        type: str
      certificate_path:
        description: A file on the node holding the certificate.
        type: path
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  listener_exclusive:
    description: Also remove every client-certificate alias of the listener's stores that O(listener_certificates) does not name.
    type: bool
    default: false
  listener_checks:
    description:
      - Client certificates to check against the listener's truststore after the run (RV(listener.checks)) - would the
        HTTPS listener's TLS handshake accept each one (a PKIX path to a certificate of the store, validity, and
        C(digitalSignature)/C(clientAuth) where the certificate restricts its use)?
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A name for the check in the result.
        type: str
      certificate:
        description: The client certificate, PEM, followed by the chain the client presents with it (if any).
        type: str
        required: true
  hostname_verifier:
    description:
      - How RV(trust_checks) verify host names. Defaults to the gateway's
        C([transport.passthru_https.sender.parameters] HostnameVerifier).
    type: str
    choices: [Strict, Default, DefaultAndLocalhost, AllowAll]
  local_fact:
    description:
      - A file on the node to write what the node trusts after the run to, as an Ansible local fact, for example
        C(/etc/ansible/facts.d/apim_certificates.fact); M(ansible.builtin.setup) then returns it as
        C(ansible_local.apim_certificates). The name must end in C(.fact).
      - JSON (RV(local_fact)), written atomically with mode C(0644) on every run that is not in check mode, also when
        no store changed (its C(time) is the last run's). Writing it is not a change.
      - Its folder must exist and be writable by the account the module runs as. A fact that cannot be written is a
        warning (check mode predicts it) and never fails the run or holds back the stores.
      - Fingerprints, subjects, dates, trust check results; never a password, a key or a certificate.
    type: path
notes:
  - The M(apim.certificates.gateway_sync) role runs this module once per node and compares the nodes on the
    controller. Use M(apim.certificates.endpoint_certificate) and M(apim.certificates.truststore_info) for finer control.
seealso:
  - module: apim.certificates.endpoint_certificate
  - module: apim.certificates.truststore_info
"""

EXAMPLES = r"""
- name: Make the node trust the orders backend, pinned, and check that it does
  apim.certificates.gateway_trust:
    apim_home: /opt/wso2am-4.2.0
    certificates:
      - alias: orders-backend
        endpoint: https://orders.internal:8443/
        fingerprint: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
  register: node

- name: Fail when the node does not trust a backend
  ansible.builtin.assert:
    that: node.trust_checks | rejectattr('trusted') | list | length == 0

- name: Remove expired certificates and leaves no declared backend serves any more (stock entries kept)
  apim.certificates.gateway_trust:
    apim_home: /opt/wso2am-4.2.0
    certificates: "{{ declared_certificates }}"
    drop: [expired, unserved_leaves]
  register: cleaned

- name: Keep what the node trusts as a local fact (ansible_local.apim_certificates at the next fact gathering)
  apim.certificates.gateway_trust:
    apim_home: /opt/wso2am-4.2.0
    certificates: "{{ declared_certificates }}"
    local_fact: /etc/ansible/facts.d/apim_certificates.fact

- name: Audit (check mode) what a prune would remove
  apim.certificates.gateway_trust:
    apim_home: /opt/wso2am-4.2.0
    certificates: "{{ declared_certificates }}"
    prune: true
  check_mode: true
  register: audit
"""

RETURN = r"""
changed:
  description: Whether a store changed (in check mode, would change).
  returned: always
  type: bool
check_mode:
  description: Whether the module ran in check mode (however check mode was asked for).
  returned: always
  type: bool
results:
  description: One item per alias changed or kept, as M(apim.certificates.endpoint_certificate) reports them (chain members included).
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias as stored.
      type: str
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
requested:
  description: What the run asked of the node, after removals and O(prune) were worked out, one item per alias.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias, lower-case.
      type: str
    state:
      description: V(present) or V(absent).
      type: str
    endpoint:
      description: The endpoint given with the alias (absent when none was).
      type: str
      returned: when the alias has an endpoint
listener:
  description: The listener side, with O(listener_certificates), O(listener_exclusive) or O(listener_checks).
  returned: when the listener side was asked for
  type: dict
  contains:
    changed:
      description: Whether a listener store changed (in check mode, would change).
      type: bool
    results:
      description: One item per client-certificate alias named or removed, as M(apim.certificates.listener_certificate) reports them.
      type: list
      elements: dict
    requested:
      description: The aliases asked for (C(alias), C(state)), removals of O(listener_exclusive) included.
      type: list
      elements: dict
    before:
      description:
        - The listener's stores before the run - C(stores), each with C(path), C(role), C(store_type) and C(entries)
          (client-certificate alias -> SHA-256).
      type: dict
    after:
      description: As RV(listener.before), after the run (in check mode, as a real run would leave them).
      type: dict
    touched:
      description: C(listenerprofiles.xml) when it was touched (or would be); null otherwise.
      type: str
    listener_profiles_path:
      description: The listener's profile file.
      type: str
    truststore:
      description: The listener's truststore.
      type: str
    live_within_ms:
      description: Per reloader, how soon the running gateway picks up a change, in milliseconds.
      type: dict
    live_within:
      description: When the change will be live, one sentence per reloader; empty when nothing changed.
      type: list
      elements: str
    checks:
      description: One verdict per O(listener_checks) item.
      type: list
      elements: dict
      contains:
        name:
          description: The check's name.
          type: str
        accepted:
          description: Whether the listener's truststore accepts the client certificate.
          type: bool
        reason:
          description: Why not; null when accepted.
          type: str
        anchor:
          description: The alias of the store's certificate the path ends at; null when none.
          type: str
        fingerprint:
          description: SHA-256 of the client certificate.
          type: str
        truststore:
          description: The store checked.
          type: str
certificates:
  description:
    - The facts of every certificate RV(after) lists (stock entries aside, unless named), once each, by SHA-256 - what
      the role's report files show (x509-certificate-exporter's labels).
  returned: always
  type: dict
  sample: {"AB:CD:...": {"subject": "CN=orders.internal", "issuer": "CN=Orders CA", "serial_number": "4096", "not_after": "2027-01-01T00:00:00Z"}}
dropped:
  description: The certificates O(drop) removed (in check mode, would remove), by alias; empty without O(drop).
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias.
      type: str
    reason:
      description: V(expired) or V(unserved leaf).
      type: str
    subject:
      description: The certificate's subject, RFC 4514.
      type: str
    not_after:
      description: End of the certificate's validity, UTC, ISO 8601.
      type: str
    stores:
      description: The stores that held it (V(live), V(persistent)).
      type: list
      elements: str
unmanaged:
  description: Aliases (not stock) the node held that the run does not name; empty with O(prune), which removes them.
  returned: always
  type: list
  elements: str
  sample: [legacy-billing]
owned_elsewhere:
  description:
    - Aliases the run does not name that another owner manages, with the owner. API client certificates
      (C(production_<alias>_<tenantId>), C(sandbox_...)) belong to the Publisher, which deploys them with API
      revisions. They are never pruned.
  returned: always
  type: dict
  sample: {"production_mobile-app_-1234": "API client certificate (the Publisher's)"}
before:
  description: The live and persistent truststores as they were before the run.
  returned: always
  type: dict
  contains:
    stores:
      description: One item per store file (one item when the live and the persistent store are the same file).
      type: list
      elements: dict
      contains:
        path:
          description: The store's path.
          type: str
        role:
          description: V(live), V(persistent) or V(live+persistent).
          type: str
        store_type:
          description: The store's format.
          type: str
        integrity_verified:
          description: Whether the store's integrity was verified with the password.
          type: bool
        count:
          description: The number of entries, stock ones included.
          type: int
        entries:
          description: Alias -> SHA-256 fingerprint (null for a key entry), for every alias that is not stock or that the run names.
          type: dict
          sample:
            orders-backend: "7D:05:EB:B6:82:33:9F:8C:94:51:EE:09:4E:EB:FE:FA:79:53:A1:14:ED:B2:F4:49:49:45:2F:AB:7D:2F:C1:85"
        duplicates:
          description:
            - Certificates held under several aliases, unless every one of those aliases is stock (WSO2 ships
              C(wso2carbon) = C(gateway_certificate_alias)).
          type: list
          elements: dict
          contains:
            fingerprint:
              description: The SHA-256 fingerprint.
              type: str
            aliases:
              description: The aliases holding it.
              type: list
              elements: str
after:
  description:
    - The same stores after the run, as read back from disk once written (in check mode, as a real run would leave
      them). Same form as RV(before).
  returned: always
  type: dict
expiring_within_days:
  description: O(expiring_within_days).
  returned: always
  type: int
expiring:
  description: Certificates in RV(after) (stock entries aside) that expire within O(expiring_within_days) days, or have expired.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias.
      type: str
    not_after:
      description: End of validity, UTC, ISO 8601.
      type: str
    days_remaining:
      description: Whole days left (negative once expired).
      type: int
    stores:
      description: The roles of the stores holding it (V(live), V(persistent)).
      type: list
      elements: str
keystores:
  description:
    - Each keystore a live SSL profile presents to backends that require client certificates (the gateway's own key
      pairs), with its key entries' alias, chain (subject, issuer, fingerprint, expiry), key type and size. Nothing is
      decrypted and no key is returned; as M(apim.certificates.truststore_info) reports them in gateway mode.
    - A module warning comes for each key entry whose certificate has expired or expires within O(expiring_within_days).
  returned: always
  type: list
  elements: dict
trust_checks:
  description: One verdict per endpoint of a present certificate (O(verify_endpoints)), against RV(after).
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
      description: The servers of the SSL profile that serves it.
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
      description: Whether the gateway would trust the endpoint.
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
sslprofiles_path:
  description: The C(sslprofiles.xml) the gateway reloads.
  returned: always
  type: str
reload_within_ms:
  description: The gateway's reload interval, in milliseconds.
  returned: always
  type: int
  sample: 600000
touched:
  description: The C(sslprofiles.xml) touched (in check mode, that would be) so the gateway reloads; null when nothing changed.
  returned: always
  type: str
local_fact:
  description:
    - The local fact file written (O(local_fact); in check mode, that would be); null when none was asked for or when
      it cannot be written (a warning says why).
    - "The file holds: C(schema) (1), C(written_by), C(time) (UTC), C(apim_home), C(changed), C(stores) (path, role,
      count, and per alias that is not stock its fingerprint, subject and not_after), C(expiring) (alias, not_after),
      C(trust_checks) (endpoint, trusted, trusted_by, fingerprint, served_leaf_not_after), C(untrusted_endpoints) and
      C(key_pairs) (keystore, alias, fingerprint, not_after)."
  returned: always
  type: str
  sample: /etc/ansible/facts.d/apim_certificates.fact
backup_files:
  description: The backups made (O(backup)).
  returned: when a store was backed up
  type: list
  elements: str
backup_file:
  description: The first of RV(backup_files).
  returned: when a store was backed up
  type: str
diff:
  description: Per store path, the aliases before and after (diff mode).
  returned: in diff mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# First: the collection's other module_utils are then compiled once, not twice, from the AnsiballZ zip (_zipload).
from ansible_collections.apim.certificates.plugins.module_utils import _zipload  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._endpoint_certificates import Options
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.plugins.module_utils._gateway_trust import FILTERS, sync
from ansible_collections.apim.certificates.plugins.module_utils._listener_certificates import CERTIFICATE_OPTIONS as LISTENER_CERTIFICATE_OPTIONS
from ansible_collections.apim.certificates.plugins.module_utils._module import exit_json, fail_json, settle
from ansible_collections.apim.certificates.plugins.module_utils._ownership import DEFAULT_PROTECTED, DEFAULT_STOCK_PATTERN


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apim_home=dict(type="path", required=True),
            password=dict(type="str", no_log=True),
            store_type=dict(type="str", default="auto"),
            certificates=dict(
                type="list", elements="dict", default=[],
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
            remove_aliases=dict(type="list", elements="str", default=[]),
            prune=dict(type="bool", default=False),
            drop=dict(type="list", elements="str", choices=list(FILTERS), default=[]),
            drop_stock=dict(type="bool", default=False),
            protected_aliases=dict(type="list", elements="str", default=list(DEFAULT_PROTECTED)),
            stock_alias_pattern=dict(type="str", default=DEFAULT_STOCK_PATTERN),
            strict_alias=dict(type="bool", default=True),
            allow_expired=dict(type="bool", default=False),
            timeout=dict(type="int", default=10),
            backup=dict(type="bool", default=False),
            reload=dict(type="bool", default=True),
            expiring_within_days=dict(type="int", default=30),
            verify_endpoints=dict(type="bool", default=True),
            listener_certificates=dict(type="list", elements="dict", options=LISTENER_CERTIFICATE_OPTIONS),
            listener_exclusive=dict(type="bool", default=False),
            listener_checks=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str"), certificate=dict(type="str", required=True))),
            hostname_verifier=dict(type="str", choices=["Strict", "Default", "DefaultAndLocalhost", "AllowAll"]),
            local_fact=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography>=3.4.8"), exception=certs.CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    options = Options(strict_alias=params["strict_alias"], timeout=params["timeout"], allow_expired=params["allow_expired"],
                      backup=params["backup"], reload=params["reload"],
                      # with trust checks, leaf-only trust is warned about once, from what the check saw
                      warn_leaf_only=not params["verify_endpoints"])
    try:
        result = sync(
            apim_home=params["apim_home"], password=params["password"], store_type=params["store_type"],
            certificates=params["certificates"], remove_aliases=params["remove_aliases"], prune=params["prune"],
            protected=params["protected_aliases"], stock_pattern=params["stock_alias_pattern"], options=options,
            expiring_within_days=params["expiring_within_days"], verify_endpoints=params["verify_endpoints"],
            hostname_verifier=params["hostname_verifier"], drop=params["drop"], drop_stock=params["drop_stock"],
            listener_certificates=params["listener_certificates"], listener_exclusive=params["listener_exclusive"],
            listener_checks=params["listener_checks"], local_fact=params["local_fact"] or None,
            check_mode=module.check_mode,
        )
    except ApimCertificatesError as exc:
        fail_json(module, str(exc))

    settle(module, result)
    exit_json(module, **result)


if __name__ == "__main__":
    main()
