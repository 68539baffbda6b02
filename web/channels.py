"""The browser channels this layer serves, as it needs to know them.

Each channel (Conexión Personal, the agents' desk) tells the layer about itself
when it registers: its blueprint, its session (cookie, path, limits), the
template its pages extend, and where someone refused a page can go back to.
The layer itself never imports a channel; it only reads what they told it.
"""
from __future__ import annotations

import dataclasses

from flask import Blueprint, Request

from web.sessions import Channel


@dataclasses.dataclass(frozen=True)
class WayBack:
    endpoint: str
    text: str  # the link's words


@dataclasses.dataclass(frozen=True)
class BrowserChannel:
    blueprint: str  # the channel's blueprint's name
    session: Channel  # its cookie, its path, how long its sessions last
    layout: str  # the template its pages extend (its header and navigation)
    home: WayBack  # for someone logged in
    login: WayBack  # for anyone else

    def serves(self, request: Request) -> bool:
        # By path too: a URL nothing answers (a 404, a 405) has no blueprint.
        path = self.session.path
        return (request.blueprint == self.blueprint
                or request.path == path or request.path.startswith(path + "/"))


@dataclasses.dataclass
class Registry:
    """What the app's channels told this layer (app.extensions["web"])."""
    channels: list[BrowserChannel] = dataclasses.field(default_factory=list)
    # Blueprints whose callers are machines (Twilio's webhooks): name, URL prefix.
    not_for_people: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def channel_of(self, request: Request) -> BrowserChannel | None:
        return next((channel for channel in self.channels if channel.serves(request)), None)

    def for_machines(self, request: Request) -> bool:
        return any(request.blueprint == name
                   or (prefix and (request.path == prefix
                                   or request.path.startswith(prefix + "/")))
                   for name, prefix in self.not_for_people)

    def add_machine_blueprint(self, blueprint: Blueprint) -> None:
        self.not_for_people.append((blueprint.name, (blueprint.url_prefix or "").rstrip("/")))
