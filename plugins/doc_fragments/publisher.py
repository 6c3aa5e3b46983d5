# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """How the Publisher modules reach the API-M Publisher REST API and get a token."""

    DOCUMENTATION = r"""
options:
  publisher_url:
    description:
      - The API-M server that serves the Publisher REST API (the control plane), scheme, host and port, e.g.
        C(https://apim.example.com:9443). The API's path (C(/api/am/publisher/<api_version>)) is added by the module;
        a path given here is kept as a prefix (a Publisher behind a reverse proxy).
    type: str
    required: true
  username:
    description:
      - The user whose rights are used, e.g. C(admin). A tenant user is C(user@tenant-domain) and manages that
        tenant's certificates.
      - With O(password), the module registers an OAuth client by dynamic client registration (DCR, one stable
        client per user, so repeated runs do not pile up clients) unless O(client_id) is given, and takes a
        password-grant token with the least scopes the run needs. It asks for C(apim:ep_certificates_view),
        C(apim:ep_certificates_add) and C(apim:ep_certificates_update) as needed, then C(apim:ep_certificates_manage),
        then C(apim:api_view) and C(apim:api_create) (the only ones O(api_version=v1) and O(api_version=v2) know).
      - Mutually exclusive with O(token).
    type: str
  password:
    description:
      - The password of O(username). Never logged or returned.
    type: str
  token:
    description:
      - A bearer token to use as it is, instead of O(username) and O(password). It needs a scope for each kind of
        call the run makes (view; add; update, which covers delete), see O(username).
    type: str
  client_id:
    description:
      - The consumer key of an OAuth client that is allowed the password grant. With O(client_secret), the module
        skips DCR.
    type: str
  client_secret:
    description:
      - The consumer secret of O(client_id). Never logged or returned.
    type: str
  api_version:
    description:
      - The Publisher REST API version. V(v4) for API-M 4.2 and later, V(v3) for 4.1, V(v2) for 4.0, V(v1) for 3.2.
    type: str
    choices: [v1, v2, v3, v4]
    default: v4
  validate_certs:
    description:
      - Verify the Publisher's TLS certificate. Keep it on; give O(ca_path) when the Publisher's certificate is
        signed by a private CA (API-M's default certificate is self-signed).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificate(s) to verify the Publisher's TLS certificate with.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
notes:
  - The module talks to the Publisher from where it runs (the managed node, or the controller with
    C(delegate_to=localhost)); run it where the Publisher is reachable.
  - No password, client secret or token appears in any output, at any verbosity.
"""
