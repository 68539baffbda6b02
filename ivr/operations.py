"""The operations a menu's action nodes name: each calls the banking core and
answers with an outcome code (the core's error codes, or `ok`) and the values
later prompts read. Domain rules stay in the core; these only translate."""
from __future__ import annotations

import dataclasses

from banking_core import errors
from banking_core.digits import is_ascii_digits
from banking_core.sessions import customer_principal
from banking_core.views import Principal
from ivr.interpreter import Context, Outcome
from ivr.prompts import join_spoken
from ivr.state import STATE_TTL
from web.login_limits import minutes_to_wait

# What the caller keys and the operations find for one payment lives in this
# namespace of the call state (`payment.x`, see CallState): another payment
# starts from an empty one.
PAYMENT = "payment"


@dataclasses.dataclass(frozen=True)
class Services:
    bank: object
    login_limits: object  # web/login_limits.py: failed log-ins per caller and credential


def _payment(ctx: Context) -> dict:
    """The payment in progress: what its nodes stored, by bare name."""
    return ctx.state.vars.get(PAYMENT, {})


def _in_payment(**values) -> dict:
    """Outcome values for the payment in progress."""
    return {f"{PAYMENT}.{name}": value for name, value in values.items()}


def _principal(ctx: Context) -> Principal:
    p = ctx.state.principal
    if p is None:
        raise RuntimeError("operation needs a logged-in caller")
    return Principal(customer_id=p["customer_id"], customer_name=p["customer_name"],
                     method=p["method"], account_ids=frozenset(p["account_ids"]))


# The refusal after too many tries rounds the wait up to at least two minutes:
# one recorded sentence in the plural, and never "come back" too soon.
MIN_MINUTES_SAID = 2


def login(ctx: Context) -> Outcome:
    """Every failure — no such credential, a wrong NIP, a malformed number, a
    blocked credential — is the one outcome `login_failed`, said in one
    sentence, because any difference (words, a countdown only real credentials
    have, a transfer only blocked ones get) tells a caller trying numbers which
    exist. The sentence states the rule (blocked after MAX_FAILED_ATTEMPTS) and
    that 0 reaches an agent, who can unblock; `login_blocked` tells the agent
    branch to file that hand-off as a blocked access, which the caller cannot
    tell from any other transfer."""
    bank, limits = ctx.services.bank, ctx.services.login_limits
    # Kept (sealed) until the log-in succeeds: a wrong NIP is asked again for
    # the same identifier, and counts against it.
    identifier = ctx.sealer.open(ctx.state.sealed.get("identifier", "")) or ""
    method = ctx.state.vars.get("login_method", "")
    nip = ctx.transient.pop("nip", "")
    buckets = (limits.caller(ctx.state.caller), limits.credential(bank, method, identifier))
    wait = limits.wait(*buckets)
    if wait is not None:
        return Outcome("too_many_attempts",
                       {"minutes": max(MIN_MINUTES_SAID, minutes_to_wait(wait))})
    try:
        principal = bank.authenticate(method=method, identifier=identifier, nip=nip)
    except (errors.InvalidCredentials, errors.MalformedCredential,
            errors.CredentialBlocked) as exc:
        limits.failed(*buckets)
        return Outcome("login_failed", {
            "max_attempts": bank.policy.max_failed_attempts,
            "login_blocked": "yes" if isinstance(exc, errors.CredentialBlocked) else ""})
    ctx.state.sealed.pop("identifier", None)
    ctx.state.principal = {
        "customer_id": principal.customer_id, "customer_name": principal.customer_name,
        "method": principal.method, "account_ids": sorted(principal.account_ids),
    }
    # A session like any browser's, so a block or a log-out elsewhere ends
    # this call's access too (webhooks check it every turn). Sealed: the token
    # is a bearer secret.
    token = bank.sessions.open(customer_principal(principal), "phone",
                               lifetime=STATE_TTL, idle=STATE_TTL)
    ctx.state.sealed["session"] = ctx.sealer.seal(token)
    return Outcome("ok", {"customer_name": principal.customer_name.split()[0],
                          "login_blocked": ""})


def switch_language(ctx: Context) -> Outcome:
    """Key 9 at the first menu: the rest of the call in the language its
    greeting offered (the prompt file's `offers`)."""
    if ctx.prompts.offers:
        ctx.state.language = ctx.prompts.offers
    return Outcome("ok")


def read_balances(ctx: Context) -> Outcome:
    prompts = ctx.prompts
    lines = [
        prompts.render("balance_line", {
            "kind": prompts.reader.account_kind(a.kind), "last4": a.last4,
            "balance": a.balance_centavos})
        for a in ctx.services.bank.list_accounts(_principal(ctx))
    ]
    # Joined keeping each line's segments, so play mode plays their recordings
    # (they are said in this same turn; the call state keeps plain text).
    return Outcome("ok", {"balances": join_spoken(lines)})


def find_account(ctx: Context) -> Outcome:
    try:
        account = ctx.services.bank.find_account_by_last4(
            _principal(ctx), _payment(ctx).get("account_last4", ""))
    except (errors.UnknownAccount, errors.AmbiguousAccount) as exc:
        return Outcome(exc.code)
    return Outcome("ok", _in_payment(account_id=account.id))


def find_service(ctx: Context) -> Outcome:
    key = _payment(ctx).get("service_key", "")
    try:
        service = ctx.services.bank.find_service(key)
    except (errors.UnknownService, errors.ServiceInactive) as exc:
        return Outcome(exc.code, _in_payment(service_key=exc.details.get("service_key", key)))
    if service.has_alphanumeric_reference:
        # Letters cannot be keyed on a phone: the seed sends these to an agent.
        return Outcome("alphanumeric_service", _in_payment(service_key=service.service_key,
                                                           service_name=service.name))
    return Outcome("ok", _in_payment(service_key=service.service_key, service_name=service.name,
                                     reference_count=len(service.references)))


def _reference_values(service, position: int) -> dict:
    rule = service.references[position - 1]
    return _in_payment(reference_position=position, reference_label=rule.said_label,
                       reference_min=rule.min_length, reference_max=rule.max_length,
                       reference_fixed="yes" if rule.min_length == rule.max_length else "")


def first_reference(ctx: Context) -> Outcome:
    service = ctx.services.bank.find_service(_payment(ctx)["service_key"])
    return Outcome("ok", {**_reference_values(service, 1), **_in_payment(references_list=[])})


def check_reference(ctx: Context) -> Outcome:
    v = _payment(ctx)
    service = ctx.services.bank.find_service(v["service_key"])
    position = int(v["reference_position"])
    try:
        value = service.references[position - 1].check(v.get("reference_value", ""))
    except errors.InvalidReference as exc:
        return Outcome(exc.code, _in_payment(reference_reason=_reason(ctx, exc.reason)))
    return Outcome("ok", _in_payment(reference_value=value))


def _reason(ctx: Context, reason: str):
    """Why a reference was refused, in the call's words."""
    key = f"reason_{reason}"
    return ctx.prompts.render(key, {}) if key in ctx.prompts.keys() else reason


def next_reference(ctx: Context) -> Outcome:
    v = _payment(ctx)
    service = ctx.services.bank.find_service(v["service_key"])
    position = int(v["reference_position"])
    refs = list(v.get("references_list", []))[:position - 1] + [v["reference_value"]]
    if position < len(service.references):
        return Outcome("more", {**_reference_values(service, position + 1),
                                **_in_payment(references_list=refs)})
    return Outcome("done", _in_payment(references_list=refs, references=" ".join(refs)))


def parse_keyed_amount(keyed: str) -> int | None:
    """'349' -> 34900, '349*5' -> 34950, '349*05' -> 34905: * is the decimal point."""
    whole, star, cents = keyed.partition("*")
    if not is_ascii_digits(whole, max_length=12) or (
            star and not is_ascii_digits(cents, max_length=2)):
        return None
    return int(whole) * 100 + (int(cents.ljust(2, "0")) if star else 0)


def check_amount(ctx: Context) -> Outcome:
    v = _payment(ctx)
    centavos = parse_keyed_amount(v.get("amount_keyed", ""))
    if centavos is None or centavos == 0:
        return Outcome("invalid_amount")
    service = ctx.services.bank.find_service(v["service_key"])
    try:
        service.check_amount(centavos)
    except errors.AmountOutOfRange as exc:
        rule = service.amount_rule
        words = ctx.prompts.reader.amount_rule(
            fixed=rule.fixed_centavos, low=rule.min_centavos, high=rule.max_centavos)
        return Outcome(exc.code, _in_payment(amount_rule=words))
    except errors.InvalidAmount as exc:
        return Outcome(exc.code)
    return Outcome("ok", _in_payment(amount=centavos))


def payment_key(call_sid: str, number) -> str:
    """The idempotency key of a call's `number`th payment. Every key of a call
    begins with call_payments_prefix: the bank finds a call's payments by it
    when the call's state is lost (ivr/lost_state.py)."""
    return f"{call_payments_prefix(call_sid)}{number}"


def call_payments_prefix(call_sid: str) -> str:
    return f"{call_sid}:pago:"


def post_payment(ctx: Context) -> Outcome:
    v, call = _payment(ctx), ctx.state.vars
    try:
        receipt = ctx.services.bank.post_payment(
            _principal(ctx), channel="phone", account_id=int(v["account_id"]),
            service_key=v["service_key"], references=v["references_list"],
            amount_centavos=int(v["amount"]),
            # One key per payment of the call: a duplicated webhook, or a retry
            # after a crash between posting and answering, posts once.
            idempotency_key=payment_key(ctx.state.call_sid, call.get("payment_number", 1)),
        )
    except errors.OverDailyLimit as exc:
        return Outcome(exc.code, _in_payment(available=exc.details["available"]))
    except errors.InvalidReference as exc:
        # The biller's rules changed since the read-back: the references are
        # asked again and the caller returns to the summary, not to the amount.
        return Outcome(exc.code, {"correcting": "yes", **_in_payment(
            reference_reason=_reason(ctx, exc.reason))})
    except errors.AmountOutOfRange as exc:
        # The biller's amount rule changed since the read-back: said as
        # check_amount says it, from the rule the bank refused with.
        rule = exc.details
        words = ctx.prompts.reader.amount_rule(fixed=rule.get("fixed"), low=rule.get("min", 0),
                                               high=rule.get("max", 0))
        return Outcome(exc.code, {"correcting": "yes", **_in_payment(amount_rule=words)})
    except errors.DomainError as exc:
        return Outcome(exc.code, {"correcting": "yes"})
    return Outcome("ok", {**_in_payment(folio=receipt.folio,
                                        posted_at=receipt.local_posted_at.isoformat()),
                          # every folio of the call, for its record when it ends
                          "call_folios": sorted({*call.get("call_folios", ()), receipt.folio})})


def new_payment(ctx: Context) -> Outcome:
    ctx.state.forget(PAYMENT)
    return Outcome("ok", {"payment_number": int(ctx.state.vars.get("payment_number", 1)) + 1})


OPERATIONS = {
    "login": login, "switch_language": switch_language, "read_balances": read_balances,
    "find_account": find_account, "find_service": find_service, "first_reference": first_reference,
    "check_reference": check_reference, "next_reference": next_reference,
    "check_amount": check_amount, "post_payment": post_payment, "new_payment": new_payment,
}
