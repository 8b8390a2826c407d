"""A small block-style YAML emitter for the fragments spliced into the template."""

from __future__ import annotations

import json

OMIT = "#<omit>"  # a placeholder line rendered as nothing (not even a blank line)


def yaml_lines(value, indent: int) -> list[str]:
    """A small block-style YAML emitter for the fragments (scalars as JSON, which YAML reads)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{json.dumps(key)}:")
                lines.extend(yaml_lines(item, indent + 2))
            else:
                lines.append(f"{pad}{json.dumps(key)}: {json.dumps(item)}")
    elif isinstance(value, list):
        for item in value:
            nested = yaml_lines(item, indent + 2)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
    else:
        lines.append(f"{pad}{json.dumps(value)}")
    return lines


def yaml_block(value, indent: int) -> str:
    return "\n".join(yaml_lines(value, indent)) if value else OMIT
