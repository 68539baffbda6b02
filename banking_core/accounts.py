"""A customer's accounts, as the channels see them."""
from __future__ import annotations

from sqlalchemy import select

from banking_core import errors, ledger
from banking_core.digits import is_ascii_digits
from banking_core.models import Account, Customer
from banking_core.views import AccountView, LedgerAccount, Principal


def _view(account: Account) -> AccountView:
    return AccountView(
        id=account.id, number=account.number, kind=account.kind,
        balance_centavos=account.balance_centavos, clabe=account.clabe,
    )


def list_accounts(bank, principal: Principal) -> list[AccountView]:
    with bank.unit_of_work() as uow:
        rows = uow.session.scalars(
            select(Account)
            .where(Account.id.in_(principal.account_ids),
                   Account.customer_id == principal.customer_id)
            .order_by(Account.id)
        ).all()
        return [_view(a) for a in rows]


def find_account_by_last4(bank, principal: Principal, last4: str) -> AccountView:
    last4 = str(last4).strip()
    if not is_ascii_digits(last4, length=4):
        raise errors.UnknownAccount("give the last 4 digits of the account", last4=last4[:8])
    matches = [a for a in list_accounts(bank, principal) if a.last4 == last4]
    if not matches:
        raise errors.UnknownAccount(f"no account of yours ends in {last4}", last4=last4)
    if len(matches) > 1:
        raise errors.AmbiguousAccount(
            f"more than one of your accounts ends in {last4}", last4=last4
        )
    return matches[0]


def get_account(bank, principal: Principal, account_id: int) -> AccountView:
    if not principal.may_use(account_id):
        raise refuse_account(bank, principal, account_id)
    with bank.unit_of_work() as uow:
        account = uow.session.get(Account, account_id)
        if account is None or account.customer_id != principal.customer_id:
            raise refuse_account(bank, principal, account_id)
        return _view(account)


def refuse_account(bank, principal: Principal, account_id, **context) -> errors.AccountNotOwned:
    """Every channel's attempt to use an account the session may not touch is
    logged here, once: a forged form or a confused agent leaves a trace."""
    bank.log.warning("account_refused", customer=principal.customer_id,
                     account_id=str(account_id)[:20], method=principal.method, **context)
    return errors.AccountNotOwned("that account is not available to you")


def ledger_accounts(bank) -> list[LedgerAccount]:
    """Every account (the bank's own included) with its balance as the ledger
    sums it, for the operators."""
    with bank.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Account, Customer.name).outerjoin(Customer).order_by(Account.id)).all()
        return [LedgerAccount(number=account.number, kind=account.kind,
                              balance_centavos=ledger.account_balance(uow.session, account.id),
                              clabe=account.clabe, owner=owner or account.name or "")
                for account, owner in rows]
