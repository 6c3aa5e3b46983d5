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


class FileWriteError(ApimCertificatesError):
    """A file that could not be written safely; the original is left as it was."""


class GatewayConfigError(ApimCertificatesError):
    """An API-M configuration file (deployment.toml, sslprofiles.xml) that cannot be used."""


class EndpointError(ApimCertificatesError):
    """A backend endpoint whose certificate could not be fetched or did not match its pin."""


class PublisherError(ApimCertificatesError):
    """The API-M Publisher REST API refused, failed or could not be reached; the message names the operation."""
