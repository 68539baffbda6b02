"""audio/<language>/manifest.json: which file holds which text.

Entries are keyed by a hash of the text and of how it was rendered (engine,
voice, processing), and the file is named after that hash: a changed text or
voice is a new file, so a file's content never changes under its URL (Twilio
may cache it forever) and a build renders only what is new.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

MANIFEST = "manifest.json"


class ManifestError(ValueError):
    """A manifest is missing or unreadable; the message names the file."""


@dataclasses.dataclass(frozen=True)
class Entry:
    file: str
    text: str
    kind: str  # "prompt" (a piece of a prompt), "pause" (its bare punctuation), "word"
    milliseconds: int


def text_hash(engine: dict, text: str) -> str:
    identity = json.dumps(engine, sort_keys=True, ensure_ascii=False) + "\n" + text
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class Manifest:
    language: str
    engine: dict
    entries: dict[str, Entry]  # hash -> entry

    def by_text(self) -> dict[str, Entry]:
        return {entry.text: entry for entry in self.entries.values()}

    def version(self) -> str:
        """Changes whenever any recording does: a cache key for joined files."""
        return hashlib.sha256("\n".join(sorted(self.entries)).encode()).hexdigest()[:10]

    def to_json(self) -> str:
        data = {"language": self.language, "engine": self.engine,
                "entries": {key: {"file": e.file, "text": e.text, "kind": e.kind,
                                  "ms": e.milliseconds}
                            for key, e in sorted(self.entries.items())}}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def save(self, directory: Path) -> None:
        path = directory / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)  # a reader never sees half a manifest


def load_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: missing (run `ivr audio build`)") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: unreadable: {exc}") from None
    try:
        entries = {}
        for key, raw in data["entries"].items():
            entry = Entry(file=str(raw["file"]), text=str(raw["text"]), kind=str(raw["kind"]),
                          milliseconds=int(raw["ms"]))
            if entry.file != f"{key}.wav" or "/" in entry.file:
                raise ValueError(f"entry {key!r} names file {entry.file!r}")
            entries[key] = entry
        return Manifest(language=str(data["language"]), engine=dict(data["engine"]),
                        entries=entries)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ManifestError(f"{path}: malformed: {exc!s}") from None
