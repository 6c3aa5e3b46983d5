# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fetching the certificate chain a backend presents, the way a gateway would see it.

A TLS handshake with SNI and no trust requirement (the point is to learn what to trust), bounded by a
timeout. A SHA-256 pin of the leaf certificate turns trust-on-first-use into a checked fact.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import urllib.parse

from ansible_collections.apim.certificates.plugins.module_utils import _certificates as certs
from ansible_collections.apim.certificates.plugins.module_utils._errors import EndpointError


def parse_endpoint(endpoint: str) -> tuple:
    """(host, port) from https://host[:port][/path] or host:port. The port defaults to 443."""
    text = str(endpoint).strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        url = urllib.parse.urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise EndpointError(f"endpoint '{endpoint}' is not a valid URL: {exc}") from None
    if url.scheme.lower() not in ("https", "wss"):
        raise EndpointError(f"endpoint '{endpoint}' is not an https:// URL; only TLS endpoints present certificates")
    if not url.hostname:
        raise EndpointError(f"endpoint '{endpoint}' has no host name")
    return _host_as_written(url), port or 443


def _host_as_written(url) -> str:
    """The host as the URL writes it. urllib lowercases it, but the gateway picks an SSL profile by the exact,
    case-sensitive host:port the API's endpoint URL uses (IPv6 addresses are lowercased, as the gateway sees them)."""
    netloc = url.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        return url.hostname
    written = netloc.rpartition(":")[0] if ":" in netloc else netloc
    return written if written.lower() == url.hostname else url.hostname


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fetch_chain(host: str, port: int, timeout: float = 10.0) -> list:
    """The certificates the server presents, leaf first, as cryptography objects."""
    where = f"{host}:{port}"
    return [certs.parse_certificates(der, f"certificate presented by {where}")[0] for der in fetch_chain_der(host, port, timeout)]


def fetch_chain_der(host: str, port: int, timeout: float = 10.0) -> list:
    """The certificates the server presents, leaf first, as DER (at least one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    where = f"{host}:{port}"
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        raise EndpointError(f"cannot connect to {where}: no answer within {timeout:g} s") from None
    except socket.gaierror as exc:
        raise EndpointError(f"cannot connect to {where}: host name not resolved ({exc.strerror})") from None
    except OSError as exc:
        raise EndpointError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    try:
        raw.settimeout(timeout)
        try:
            tls = context.wrap_socket(raw, server_hostname=None if _is_ip(host) else host)
        except socket.timeout:
            raise EndpointError(f"TLS handshake with {where} did not finish within {timeout:g} s") from None
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
            raise EndpointError(f"TLS handshake with {where} failed ({reason}); is it a TLS endpoint?") from None
        try:
            ders = _presented_chain(tls)
        finally:
            tls.close()
    finally:
        raw.close()
    if not ders:
        raise EndpointError(f"{where} presented no certificate")
    return ders


def _presented_chain(tls) -> list:
    sslobj = getattr(tls, "_sslobj", None)
    for name in ("get_unverified_chain",):
        getter = getattr(tls, name, None) or getattr(sslobj, name, None)
        if getter is not None:
            chain = getter() or []
            return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # pylint: disable=protected-access
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def fetch_certificates(endpoint: str, *, pinned: bool = False, timeout: float = 10.0) -> tuple:
    """(chain, warnings) for endpoint: the presented chain, and the trust-on-first-use warning when nothing pins it
    (the pins themselves are checked by the caller, _chain.check_pins, as for given content)."""
    host, port = parse_endpoint(endpoint)
    presented = fetch_chain(host, port, timeout)
    warnings = []
    if not pinned:
        leaf = certs.sha256_fingerprint(certs.certificate_der(presented[0]))
        warnings.append(
            f"the certificate of {host}:{port} (SHA-256 {leaf}) was trusted on first use; "
            "give fingerprint or spki_pins to pin it"
        )
    return presented, warnings
