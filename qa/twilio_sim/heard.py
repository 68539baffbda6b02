"""What a leg hears, and reading TwiML documents the way Twilio reads them."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

# The verbs Twilio accepts in each kind of document. A wait document of
# <Enqueue> may also <Leave>, <Hangup> and <Gather>
# (https://www.twilio.com/docs/voice/twiml/enqueue: "Allowed verbs in the
# waitUrl"); a conference's wait or hold document only plays (error 13238:
# "Dial, Gather, Hangup and Record are not allowed").
CALL_VERBS = {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Enqueue",
              "Dial", "Leave"}
QUEUE_WAIT_VERBS = {"Say", "Play", "Pause", "Redirect", "Leave", "Hangup", "Gather"}
CONFERENCE_WAIT_VERBS = {"Say", "Play", "Pause", "Redirect"}


class CallError(AssertionError):
    """The app answered something Twilio could not follow (Twilio would log an
    application error in its debugger, and the caller would hear its canned
    apology)."""


@dataclasses.dataclass
class Heard:
    """One stretch of a call as its party hears it: from an action (a call
    placed, keys pressed, silence, an agent joining…) to the next wait."""

    says: list[str]
    gather: dict | None = None  # attributes of the pending <Gather>
    redirect: str | None = None  # the <Redirect> a gather falls through to
    transferred: str | None = None  # the queue (or conference, client) the call went to
    transfer: dict | None = None    # verb, queue, target and attributes of that transfer
    hung_up: bool = False
    plays: list[str] = dataclasses.field(default_factory=list)  # <Play> URLs, in order
    pause_seconds: int = 0
    latency: float = 0.0  # seconds from the action to the whole answer

    @property
    def text(self) -> str:
        # Played pieces of one sentence may start with its punctuation
        # (", referencia"): no space before it.
        text = ""
        for said in filter(None, self.says):
            text += said if not text or said[:1] in ",.;:" else " " + said
        return text

    @property
    def ended(self) -> bool:
        """The IVR's part of the call is over: transferred, or hung up."""
        return bool(self.transferred is not None or self.transfer or self.hung_up)

    @property
    def dialed(self) -> str | None:
        """What a <Dial> connects to, e.g. "client:agente_1"."""
        if not self.transfer or self.transfer["verb"] != "Dial":
            return None
        return f"{self.transfer.get('target', 'number').lower()}:{self.transfer['queue']}"


def parse_document(body: str) -> list[ET.Element]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallError(f"not TwiML: {exc}: {body[:200]}") from None
    if root.tag != "Response":
        raise CallError(f"TwiML must be a <Response>, got <{root.tag}>")
    return list(root)


def resolve(url: str, document_url: str) -> str:
    """Relative URLs in TwiML resolve against the document's own URL
    (https://www.twilio.com/docs/voice/twiml/redirect: "relative to the
    current URL")."""
    return urljoin(document_url, url.strip()) if document_url else url.strip()


def transfer_of(verb: ET.Element) -> dict:
    """An <Enqueue> or <Dial>, as a desk would see it: the queue (or client,
    conference) it names and the verb's attributes."""
    detail = {"verb": verb.tag, "attributes": dict(verb.attrib), "queue": None, "task": None}
    for child in verb:
        if child.tag == "Task":
            raw = (child.text or "").strip()
            try:
                detail["task"] = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                detail["task"] = {"_raw": raw}
        elif child.tag in {"Queue", "Number", "Client", "Sip", "Conference"}:
            detail["queue"] = (child.text or "").strip()
            detail["target"] = child.tag
            detail["noun"] = dict(child.attrib)
    if detail["queue"] is None:
        text = (verb.text or "").strip()
        detail["queue"] = text or verb.attrib.get("name") or ""
        if verb.tag == "Dial":
            detail["target"] = "Number"
    return detail
