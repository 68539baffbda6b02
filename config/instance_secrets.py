"""Secrets a development or test instance makes for itself on first run.

No secret is a constant in the code: a constant is public the day the code is,
and a deployment that forgot one variable would run with it (a cookie forged
with a published SECRET_KEY opens any account). Outside production each secret
not given in the environment is drawn at random once, kept in
`instance/secrets.json` with mode 0600 and read back on every later start, so
sessions, sealed call values and NIP hashes survive a restart. Production
never reads this file: it refuses to start without its secrets.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

# The secrets an instance can make for itself, each with the bytes of entropy
# it is drawn with (hex-encoded, so twice as many characters).
GENERATED = {"SECRET_KEY": 32, "NIP_PEPPER": 32, "TWILIO_AUTH_TOKEN": 16}
FILE_NAME = "secrets.json"


class InstanceSecretsError(RuntimeError):
    """The instance's secrets file cannot be read or is unsafe."""


def load_or_create(instance_path: Path) -> dict[str, str]:
    """The instance's own secrets, drawn and saved the first time."""
    path = Path(instance_path) / FILE_NAME
    found = _read(path)
    missing = [name for name in GENERATED if not found.get(name)]
    if not missing:
        return found
    drawn = {**found, **{name: secrets.token_hex(GENERATED[name]) for name in missing}}
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_once(path, drawn, replace=bool(found))
    # Re-read: when two processes start at once, the file the first one linked
    # into place is what both use.
    return _read(path)


def _read(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InstanceSecretsError(
            f"{path}: readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InstanceSecretsError(f"{path}: unreadable ({exc}); delete it to draw new "
                                   "secrets (sessions end and the demo bank must be "
                                   "loaded again)") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InstanceSecretsError(f"{path}: expected an object of strings")
    return data


def _write_once(path: Path, values: dict[str, str], *, replace: bool) -> None:
    """Write to a private temporary file, then link it into place: a reader
    never sees half a file, and of two first starts only one file wins."""
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(values, handle, indent=2)
            handle.write("\n")
        if replace:
            os.replace(temporary, path)  # adding a newly introduced secret
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process drew them first; theirs are used
    finally:
        if temporary.exists():
            temporary.unlink()
