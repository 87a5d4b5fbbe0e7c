"""The YAML block at the top of a Space's README.md: written from a preset, checked against the
fields the Hub documents (the Spaces configuration reference).

The check is what a push would otherwise find out later: an unknown field, a colour or hardware
flavour the Hub does not know, a description over 60 characters, a malformed ``preload_from_hub``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

from pipeline.errors import InvalidInput

COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
SDKS = ("gradio", "docker", "static", "streamlit")
HARDWARE = (
    "cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "a10g-small", "a10g-large",
    "a10g-largex2", "a10g-largex4", "a100-large", "zero-a10g", "v5e-1x1", "v5e-2x2", "v5e-2x4",
)  # fmt: skip
STORAGE = ("small", "medium", "large")
FIELDS = {
    "title": str, "emoji": str, "colorFrom": str, "colorTo": str, "sdk": str, "sdk_version": str,
    "python_version": str, "app_file": str, "app_port": int, "base_path": str, "fullWidth": bool,
    "header": str, "short_description": str, "models": list, "datasets": list, "tags": list,
    "thumbnail": str, "pinned": bool, "license": str, "suggested_hardware": str, "suggested_storage": str,
    "preload_from_hub": list, "startup_duration_timeout": str, "disable_embedding": bool,
    "hf_oauth": bool, "hf_oauth_scopes": list, "hf_oauth_expiration_minutes": int, "custom_headers": dict,
}  # fmt: skip
MAX_SHORT_DESCRIPTION = 60


def front_matter(fields: dict[str, Any]) -> str:
    """``---``-fenced YAML of ``fields`` in their order, checked first."""
    check_fields(fields)
    body = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{body}---\n"


def read_front_matter(readme: str) -> dict[str, Any]:
    """The fields of the YAML block that opens ``readme``, checked."""
    match = re.match(r"---\n(.*?)\n---\n", readme, flags=re.DOTALL)
    if not match:
        raise InvalidInput("README.md does not start with a '---' YAML block")
    fields = yaml.safe_load(match.group(1))
    if not isinstance(fields, dict):
        raise InvalidInput("the README's YAML block is not a mapping of fields")
    check_fields(fields)
    return fields


def check_fields(fields: dict[str, Any]) -> None:
    """Refuse what the Spaces configuration reference does not allow, naming the field."""
    for name, value in fields.items():
        if name not in FIELDS:
            raise InvalidInput(f"front matter: {name!r} is not a Spaces configuration field")
        if not isinstance(value, FIELDS[name]) or (FIELDS[name] is int and isinstance(value, bool)):
            raise InvalidInput(f"front matter: {name} must be a {FIELDS[name].__name__}, not {value!r}")
    if fields.get("sdk") not in SDKS:
        raise InvalidInput(f"front matter: sdk must be one of {', '.join(SDKS)}")
    if fields["sdk"] in ("gradio", "streamlit"):
        for name in ("sdk_version", "app_file"):
            if name not in fields:
                raise InvalidInput(f"front matter: a {fields['sdk']} Space needs {name}")
    for name in ("colorFrom", "colorTo"):
        if name in fields and fields[name] not in COLORS:
            raise InvalidInput(f"front matter: {name} must be one of {', '.join(COLORS)}")
    if "suggested_hardware" in fields and fields["suggested_hardware"] not in HARDWARE:
        raise InvalidInput(f"front matter: suggested_hardware {fields['suggested_hardware']!r} is not a Hub flavour")
    if "suggested_storage" in fields and fields["suggested_storage"] not in STORAGE:
        raise InvalidInput(f"front matter: suggested_storage must be one of {', '.join(STORAGE)}")
    if len(fields.get("short_description", "")) > MAX_SHORT_DESCRIPTION:
        raise InvalidInput(f"front matter: short_description is longer than {MAX_SHORT_DESCRIPTION} characters")
    if "python_version" in fields and not re.fullmatch(r"3\.\d+(\.\d+)?", fields["python_version"]):
        raise InvalidInput("front matter: python_version must be 3.x or 3.x.y")
    for line in fields.get("preload_from_hub", []):
        parts = line.split() if isinstance(line, str) else []
        if not 1 <= len(parts) <= 3 or not re.fullmatch(r"[\w.-]+/[\w.-]+", parts[0]):
            raise InvalidInput(f"front matter: preload_from_hub entry {line!r} is not 'owner/repo [files] [revision]'")
    for name in ("tags", "models", "datasets"):
        if not all(isinstance(item, str) for item in fields.get(name, [])):
            raise InvalidInput(f"front matter: {name} must be a list of strings")


def python_version() -> str:
    """The running Python's ``major.minor``: the one the tests ran under."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"
