"""Codes the core stores, in the bank's words: every action the core writes to
the agents' audit log, and every fact it records with one, has Spanish words
(web/messages.py), and the supervisor's page and the call's log show them."""
import ast
from pathlib import Path

import pytest

from web import messages

CORE = Path(__file__).resolve().parents[2] / "banking_core"
NOT_DETAIL = {"agent_id", "handoff_id"}  # columns of their own, not the detail


def audit_calls():
    """Every `audit(session, now, action, …)` call in the banking core, as
    (where, the action codes it may write, the detail keys it records)."""
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "audit":
                action = node.args[2]
                branches = [action.body, action.orelse] if isinstance(action, ast.IfExp) \
                    else [action]
                assert all(isinstance(b, ast.Constant) for b in branches), \
                    f"{path.name}:{node.lineno}: an action code must be a literal to be checked"
                yield (f"{path.name}:{node.lineno}", [b.value for b in branches],
                       [k.arg for k in node.keywords if k.arg not in NOT_DETAIL])


CALLS = list(audit_calls())


def test_the_core_writes_audit_entries():
    # The scan itself works: the core's log-in, take and payment are among them.
    codes = {code for _, found, _ in CALLS for code in found}
    assert {"login_failed", "take", "payment_posted", "wrap_up"} <= codes and len(CALLS) >= 15


@pytest.mark.parametrize("where,codes,keys", CALLS, ids=[c[0] for c in CALLS])
def test_every_audit_action_and_detail_has_words(where, codes, keys):
    for code in codes:
        assert code in messages.AUDIT_ACTIONS, f"{where}: no words for {code!r}"
        assert messages.audit_action(code) != code
    for key in keys:
        assert key in messages.AUDIT_DETAILS, f"{where}: no words for the detail {key!r}"


def test_an_entry_reads_as_a_sentence():
    assert messages.audit_action("payment_posted") == "Pago realizado"
    assert messages.audit_detail({"folio": "0000000042", "amount": 65050}) == \
        "folio 0000000042 · $650.50"
    assert messages.audit_detail({"disposition": "consulta_resuelta"}) == \
        "resultado: Consulta resuelta"
    assert messages.audit_detail({"code": "insufficient_funds", "service_key": "1411"}) == \
        "servicio 1411 · La cuenta de retiro no tiene saldo suficiente para este pago."
    assert messages.audit_detail({"method": "card", "last4": "0001"}) == \
        "con tarjeta · terminación 0001"
