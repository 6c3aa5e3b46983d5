# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exceptions of the apim.certificates library.

Every failure the library can foresee is one of these, with a message a user can act on.
Messages never contain a password: callers pass passwords in, never into a message.
"""

from __future__ import annotations


class ApimCertificatesError(Exception):
    """Base of every error this collection raises on purpose."""


class CertificateError(ApimCertificatesError):
    """Certificate content that cannot be used (garbage, a key, a CSR, expired...)."""


class TruststoreError(ApimCertificatesError):
    """A truststore that cannot be read, verified or written."""


class TruncatedStoreError(TruststoreError):
    """A store whose data ends early: empty, or cut inside an entry or its integrity hash.

    A running gateway rewrites its live store in place (truncate, then write), so a reader can meet one mid-write:
    load_truststore reads again (bounded) before it reports this.
    """


class LostWriteError(ApimCertificatesError):
    """A file this run wrote was rewritten by another process (a running gateway) and no longer holds the change."""


class FileWriteError(ApimCertificatesError):
    """A file that could not be written safely; the original is left as it was."""


class GatewayConfigError(ApimCertificatesError):
    """An API-M configuration file (deployment.toml, sslprofiles.xml) that cannot be used."""


class EndpointError(ApimCertificatesError):
    """A backend endpoint whose certificate could not be fetched or did not match its pin."""


class SslProfileError(ApimCertificatesError):
    """An ssl_profile request that cannot be applied (bad servers, a shared server, an edit that would not verify)."""


class PublisherError(ApimCertificatesError):
    """The API-M Publisher REST API refused, failed or could not be reached; the message names the operation."""
