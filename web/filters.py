"""The Jinja filters every channel's templates use: amounts, and codes the
core stores, in words (web/messages.py)."""
from __future__ import annotations

from banking_core.money import format_mxn
from web import messages

FILTERS = {
    "mxn": format_mxn,  # centavos -> "$1,234.50"
    "audit_action": messages.audit_action,
    "audit_detail": messages.audit_detail,
    "handoff_status": lambda status: messages.HANDOFF_STATUS.get(status, status),
    "role": lambda role: messages.ROLES.get(role, role),
    "domiciliation_status": lambda status: messages.DOMICILIATION_STATUS.get(status, status),
    "charge_summary": messages.charge_summary,
}


def init_app(app) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
