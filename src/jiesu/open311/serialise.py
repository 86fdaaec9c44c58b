"""GeoReport v2 bodies in XML (a real serializer: ElementTree, never string pasting) and JSON.

The shapes follow the spec's examples: lists are repeated elements named after their item
(`<services><service>…`), booleans are `true`/`false`, a missing value is an empty element in
XML and null in JSON. Errors are a list of {code, description} in both.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.responses import Response

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json"}
# The element name for one item of each list.
ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "category_path": "category",
}
# Characters XML 1.0 cannot carry at all; any stored text containing them is cleaned on output.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    # Keys of free-form maps (attribute answers) may not be valid element names.
    tag = name if _NAME.match(name) else "item"
    el = ET.SubElement(parent, tag)
    if tag != name:
        el.set("key", _NOT_XML.sub("", name))
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(el, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(el, ITEMS.get(name, "item"), inner)
    else:
        el.text = _text(value)


def to_xml(root: str, value: dict[str, Any] | list[Any]) -> bytes:
    top = ET.Element(root)
    if isinstance(value, list):
        for item in value:
            _fill(top, ITEMS[root], item)
    else:
        for key, inner in value.items():
            _fill(top, key, inner)
    data: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return data


def render(fmt: str, root: str, value: dict[str, Any] | list[Any], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, value), status_code=status, media_type=FORMATS["xml"])
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status, media_type=FORMATS["json"])


def error(fmt: str, status: int, description: str) -> Response:
    # Unknown formats answer in JSON: the client asked for something we cannot speak.
    return render(
        fmt if fmt in FORMATS else "json",
        "errors",
        [{"code": status, "description": description}],
        status,
    )
