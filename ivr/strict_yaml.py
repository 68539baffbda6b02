"""YAML for the files people edit by hand (menus, prompts): a key written
twice is an error naming its line, never a silent override. PyYAML keeps the
last of two equal keys, so a prompt pasted twice would quietly replace the
first and the line would say words nobody reviewed."""
from __future__ import annotations

import yaml


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice (first on line "
                f"{seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(text: str):
    """Like yaml.safe_load, refusing duplicate keys (a yaml.YAMLError)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
