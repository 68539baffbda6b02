"""The menu interpreter: given a call's state and an event, the next reply.

Generic on purpose: it knows node types, never a particular menu. Nodes that
need no input (say, action, branch) run at once, one after another, until one
waits for the caller (menu, collect, confirm) or ends the call (transfer,
hangup); everything said on the way goes inside the reply's <Gather>, so a
caller who already knows the menu can key ahead.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from ivr.menu_schema import Menu, Node
from ivr.prompts import PromptCatalog
from ivr.state import CallState, Sealer

MAX_STEPS = 60  # nodes run in one turn; a loop in the data stops here, loudly
SILENT_AT = "silent_at"  # the digit entry the caller was last silent at
HINTS_HEARD = "hints_heard"  # the hints (node `hint`) this call has heard


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str  # start | digits | no_input
    digits: str = ""


@dataclasses.dataclass(frozen=True)
class Gather:
    says: tuple[str, ...]
    num_digits: int | None
    finish_on_key: str
    timeout: int


@dataclasses.dataclass(frozen=True)
class Reply:
    says: tuple[str, ...] = ()
    gather: Gather | None = None
    transfer: str | None = None  # the reason, when the call goes to an agent
    hangup: bool = False
    visited: tuple[str, ...] = ()  # nodes run this turn, in order (QA coverage, recordings)


@dataclasses.dataclass
class Turn:
    """What one turn accumulates while nodes run."""

    says: list[str] = dataclasses.field(default_factory=list)
    transient: dict = dataclasses.field(default_factory=dict)
    visited: list[str] = dataclasses.field(default_factory=list)
    # The input node whose entry this turn runs from: reached again without
    # another input node in between, the bank refused the entry.
    origin: str | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    code: str
    values: dict = dataclasses.field(default_factory=dict)


Operation = Callable[["Context"], Outcome]


@dataclasses.dataclass
class Context:
    """What an operation sees: the call, this turn's transient values, services."""

    state: CallState
    transient: dict
    sealer: Sealer
    services: object  # whatever the app wires in (the bank, the log-in limits…)
    prompts: PromptCatalog = None  # the call's language: its prompts and readers


class MenuRuntimeError(RuntimeError):
    pass


class Interpreter:
    """`prompts` is the catalog of the configured language; `catalogs` every
    language a call may switch to (by default that one alone). Each call is
    spoken in its own `state.language`."""

    def __init__(self, *, menu: Menu, prompts: PromptCatalog, operations: dict[str, Operation],
                 sealer: Sealer, services: object = None,
                 catalogs: dict[str, PromptCatalog] | None = None):
        self.menu, self.prompts, self.operations = menu, prompts, operations
        self.sealer, self.services = sealer, services
        self.catalogs = catalogs or {prompts.language: prompts}

    def catalog(self, language: str | None) -> PromptCatalog:
        """The prompts of a call in `language` (the configured ones if None)."""
        return self.catalogs.get(language, self.prompts) if language else self.prompts

    # -- entry points ---------------------------------------------------------
    def start(self, state: CallState) -> Reply:
        return self._run(state, self.menu.start, Turn())

    def handle(self, state: CallState, event: Event) -> Reply:
        node = self.menu.node(state.node)
        turn = Turn(origin=node.id)
        if event.kind == "no_input":
            if node.type != "collect":
                return self._failure(state, node, turn, "no_input")
            # At a digit entry, where 0 may be data, staying silent is the way
            # to an agent: the first silence says so, the second transfers.
            if state.vars.pop(SILENT_AT, None) == node.id:
                return self._run(state, self.menu.agent, turn)
            state.set(SILENT_AT, node.id)
            return self._failure(state, node, turn, "no_input_entry")
        state.vars.pop(SILENT_AT, None)
        digits = event.digits
        if node.type in {"menu", "confirm"}:
            if digits == "0":
                return self._run(state, self.menu.agent, turn)
            if digits == "*":
                return self._ask(state, node, turn, attempt=state.attempts + 1)
        if node.type == "menu":
            option = node.options.get(digits)
            if option is None:
                return self._failure(state, node, turn, "invalid_option")
            for name, value in option.set.items():
                state.set(name, value)
            return self._run(state, option.goto, turn)
        if node.type == "confirm":
            if digits == "1":
                return self._run(state, node.yes, turn)
            if digits == "2":
                return self._run(state, node.no, turn)
            return self._failure(state, node, turn, "invalid_option")
        if node.type == "collect":
            # Keys no entry can be: * alone goes back a step (also where * is
            # the decimal point: an amount needs a digit), 0 alone reaches an
            # agent where a value needs more than one digit.
            if digits == "*" and node.back:
                return self._run(state, node.back, turn)
            if digits == "0" and self._shortest(state, node) > 1:
                return self._run(state, self.menu.agent, turn)
            if not self._digits_fit(state, node, digits):
                # Not "the option": the entry (too short, too long, a stray
                # key); the prompt asked again says the length it needs.
                return self._failure(state, node, turn, "invalid_entry")
            if node.secret == "transient":
                turn.transient[node.store] = digits
            elif node.secret == "encrypted":
                state.sealed[node.store] = self.sealer.seal(digits)
            else:
                state.set(node.store, digits)
            return self._run(state, node.next, turn)
        raise MenuRuntimeError(f"node {node.id!r} does not take input")

    # -- running nodes --------------------------------------------------------
    def _run(self, state: CallState, node_id: str, turn: Turn) -> Reply:
        for _ in range(MAX_STEPS):
            node = self.menu.node(node_id)
            turn.visited.append(node.id)
            if node.takes_input:
                if node.id == turn.origin and node.type == "collect":
                    # The entry was taken and the path came straight back to
                    # ask it again: the bank refused it (unknown service or
                    # account, bad check digit, amount out of range, a failed
                    # log-in…). A refusal is a failure like a wrong key, so
                    # no entry can be refused forever. Its words were said.
                    return self._failure(state, node, turn, None, taper=False)
                state.node, state.attempts = node.id, 0
                return self._ask(state, node, turn, attempt=1)
            if node.type == "say":
                turn.says.append(self._say(node.prompt, state))
                node_id = node.next
            elif node.type == "goto":
                node_id = node.next
            elif node.type == "branch":
                node_id = node.cases.get(str(state.get(node.var, "")), node.default)
            elif node.type == "action":
                node_id = self._act(state, node, turn)
            elif node.type == "transfer":
                # Only why; "we are transferring you" (or, outside the agents'
                # hours, that none is available) is said by ivr/transfer.py.
                state.node = node.id
                if node.prompt:
                    turn.says.append(self._say(node.prompt, state))
                if state.get("transfer_reason") is None:
                    state.set("transfer_reason", node.reason)
                return Reply(says=tuple(turn.says), transfer=node.reason,
                             visited=tuple(turn.visited))
            elif node.type == "hangup":
                state.node = node.id
                turn.says.append(self._say(node.prompt, state))
                return Reply(says=tuple(turn.says), hangup=True, visited=tuple(turn.visited))
        raise MenuRuntimeError(f"more than {MAX_STEPS} nodes without input from {node_id!r}")

    def _act(self, state: CallState, node: Node, turn: Turn) -> str:
        context = Context(state=state, transient=turn.transient, sealer=self.sealer,
                          services=self.services, prompts=self.catalog(state.language))
        outcome = self.operations[node.operation](context)
        for name, value in outcome.values.items():
            state.set(name, value)
        target = node.outcomes.get(outcome.code, node.outcomes.get("default"))
        if target is None:
            raise MenuRuntimeError(
                f"node {node.id!r}: operation {node.operation!r} gave outcome "
                f"{outcome.code!r}, which the menu does not handle")
        return target

    def _ask(self, state: CallState, node: Node, turn: Turn, *, attempt: int) -> Reply:
        turn.says.append(self._say(node.prompt, state, attempt))
        heard = list(state.get(HINTS_HEARD) or [])
        if node.hint and node.hint not in heard:
            # Once a call: a caller who heard how to go back or reach an agent
            # does not need it again at every step (it costs seconds each time).
            turn.says.append(self._say(node.hint, state))
            state.set(HINTS_HEARD, heard + [node.hint])
        spec = node.digits
        if node.type == "collect" and spec.length:
            num_digits, finish = spec.length, "#"  # submits by itself; # still ends early
        elif node.type == "collect":
            num_digits, finish = None, "#"
        else:
            num_digits, finish = 1, ""
        gather = Gather(says=tuple(turn.says), num_digits=num_digits, finish_on_key=finish,
                        timeout=node.timeout or self.menu.timeout)
        return Reply(gather=gather, visited=tuple(turn.visited))

    def _failure(self, state: CallState, node: Node, turn: Turn, prompt: str | None, *,
                 taper: bool = True) -> Reply:
        """A failure at `node` (no input, a wrong key, an entry the bank
        refused): said (`prompt`, unless already said) and asked again — tapered
        after silence or a wrong key, whole after a refusal, whose caller keyed
        a value and needs the instructions again; at the node's limit, on to its
        `on_max_attempts`."""
        state.attempts += 1
        limit = node.max_attempts or self.menu.max_attempts
        if state.attempts >= limit:
            target = node.on_max_attempts or self.menu.on_max_attempts
            if target == self.menu.on_max_attempts:
                state.set("transfer_reason", "max_attempts")
            return self._run(state, target, turn)
        if prompt:
            turn.says.append(self._say(prompt, state))
        # Tapered: the second try hears the shorter variant.
        return self._ask(state, node, turn, attempt=state.attempts + 1 if taper else 1)

    def _say(self, key: str, state: CallState, attempt: int = 1) -> str:
        catalog = self.catalog(state.language)
        fixed = catalog.fixed(key, attempt)  # no values to gather for a fixed text
        return fixed if fixed is not None else \
            catalog.render(key, state.readable(), attempt)

    def _digits_fit(self, state: CallState, node: Node, digits: str) -> bool:
        spec = node.digits
        allowed = set("0123456789*") if spec.star_decimal else set("0123456789")
        if not digits or not set(digits) <= allowed:
            return False
        if spec.length:
            return len(digits) == spec.length
        low, high = (self._bound(state, b) for b in (spec.min, spec.max))
        return low <= len(digits) <= high

    def _shortest(self, state: CallState, node: Node) -> int:
        spec = node.digits
        return spec.length or self._bound(state, spec.min)

    @staticmethod
    def _bound(state: CallState, bound) -> int:
        if isinstance(bound, int):
            return bound
        return int(state.get(bound[1:], 0))
