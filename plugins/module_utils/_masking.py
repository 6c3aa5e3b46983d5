# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Masking every secret of a deployment.toml or sslprofiles.xml text before it is shown (ssl_profile's diff).

A value is secret when its key says so (password, key_password, passphrase, secret, token), in statements,
commented-out statements and inline tables of TOML, and in <Password>/<KeyPassword> of XML.
"""

from __future__ import annotations

import re

from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError
from ansible_collections.apim.certificates.plugins.module_utils._toml_splice import scan_toml

MASK = "********"
_SECRET_KEY = re.compile(r"pass(?:word|wd|phrase)?(?:$|_)|secret|token", re.IGNORECASE)
_COMMENTED_SECRET = re.compile(
    r"^(\s*#\s*[\w.\"'-]*(?:pass(?:word|wd|phrase)?(?:_|\b|\")|secret|token)[\w.\"'-]*\s*=\s*)(.*?)(\s*)$", re.IGNORECASE)


_INLINE_SECRET = re.compile(r"""(\b[\w.-]*(?:pass|secret|token)[\w.-]*\s*=\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*')""", re.IGNORECASE)


def mask_toml(text: str) -> str:
    """text with the value of every key whose name says password, secret or token replaced by a mask."""
    try:
        statements = scan_toml(text)
    except GatewayConfigError:
        return re.sub(r"(?im)^(\s*#?\s*[\w.\"'-]*(?:pass|secret|token)[\w.\"'-]*\s*=\s*).*$", f'\\g<1>"{MASK}"', text)
    out, position = [], 0
    for statement in statements:
        if statement.kind == "kv" and statement.key and _SECRET_KEY.search(str(statement.key[-1])):
            out.append(text[position:statement.value_start])
            out.append(f'"{MASK}"')
            position = statement.value_end
        elif statement.kind == "comment":
            line = text[statement.start:statement.end]
            body = line.rstrip("\r\n")
            match = _COMMENTED_SECRET.match(body)
            if match:
                out.append(text[position:statement.start])
                out.append(f'{match.group(1)}"{MASK}"{match.group(3)}{line[len(body):]}')
                position = statement.end
    out.append(text[position:])
    # passwords inside inline tables ({ ..., password = "..." }) are values of no statement of their own
    return _INLINE_SECRET.sub(lambda m: f'{m.group(1)}"{MASK}"', "".join(out))


def mask_xml(text: str) -> str:
    return re.sub(r"(<(Key)?Password\b[^>]*>)(.*?)(</(Key)?Password>)", rf"\g<1>{MASK}\g<4>", text, flags=re.DOTALL)
