"""Domain errors with stable codes; every channel turns a code into its own words.

The codes are part of the core's interface: menus, web templates and the agent
desk branch on them, so they never change once published.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str = "", **details):
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, details={self.details!r})"


class UnknownService(DomainError):
    code = "unknown_service"


class ServiceInactive(DomainError):
    code = "service_inactive"


class InvalidReference(DomainError):
    """`details`: position (1-based), reason (missing, too_short, too_long,
    not_numeric, bad_characters, bad_check_digit, unexpected)."""

    code = "invalid_reference"

    @property
    def position(self) -> int:
        return self.details["position"]

    @property
    def reason(self) -> str:
        return self.details["reason"]


class InvalidAmount(DomainError):
    code = "invalid_amount"


class AmountOutOfRange(DomainError):
    code = "amount_out_of_range"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class OverDailyLimit(DomainError):
    code = "over_daily_limit"


class UnknownAccount(DomainError):
    code = "unknown_account"


class AmbiguousAccount(DomainError):
    code = "ambiguous_account"


class AccountNotOwned(DomainError):
    code = "account_not_owned"


class InvalidCredentials(DomainError):
    """`details`: remaining (attempts left before the block), or none when the
    identifier itself is unknown (nothing to count against)."""

    code = "invalid_credentials"


class MalformedCredential(DomainError):
    code = "malformed_credential"


class CredentialBlocked(DomainError):
    code = "credential_blocked"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


class UnknownPayment(DomainError):
    code = "unknown_payment"



class CheckoutRefused(DomainError):
    """A biller's checkout request, or an order opened from one, that the bank
    will not take (banking_core/checkout.py). `details`: reason (malformed,
    unknown_key, bad_signature, wrong_service, expired, expiry_too_far,
    return_url, email, service_unavailable, references, amount, order_conflict,
    unknown_order)."""

    code = "checkout_refused"

    @property
    def reason(self) -> str:
        return self.details["reason"]


class InvalidSchedule(DomainError):
    """A domiciliation's calendar is not possible. `details`: field (day,
    start, end) and reason (not_a_day, in_the_past, before_start,
    no_occurrence)."""

    code = "invalid_schedule"


class DomiciliationExists(DomainError):
    """The customer already domiciled that service with those references."""

    code = "domiciliation_exists"


class UnknownDomiciliation(DomainError):
    code = "unknown_domiciliation"


class DomiciliationClosed(DomainError):
    """The domiciliation was cancelled or has ended: it cannot change any more."""

    code = "domiciliation_closed"


class InvalidRequest(DomainError):
    """A channel called the core with something malformed (a programming or
    input error, not a business rule)."""

    code = "invalid_request"


# Every code a channel may have to put into words; a test keeps it in step.
class NoCallWaiting(DomainError):
    code = "no_call_waiting"


class HandoffUnavailable(DomainError):
    """The transferred call does not exist, or is not this agent's to work on."""

    code = "handoff_unavailable"


class CallerNotVerified(DomainError):
    code = "caller_not_verified"


class CallerGone(DomainError):
    """The transferred caller hung up."""

    code = "caller_gone"


class CallerNotOnLine(DomainError):
    """What the agent asked needs the caller on the line with the agent (the
    caller is still in line, or keying a NIP)."""

    code = "caller_not_on_line"


class CallerStillWaiting(DomainError):
    """The agent tried to close a call whose caller is still in line."""

    code = "caller_still_waiting"


ALL_CODES = frozenset(cls.code for cls in DomainError.__subclasses__())
