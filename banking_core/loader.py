"""Loading customers, accounts, credentials, billers and agents from a bank file.

A file is loaded whole or not at all (one transaction). Every error names the
record it is about ("customers[1] 'Carlos Ruiz' → accounts[0] '0012340002': …"),
never a secret it contains.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import func, insert, select

from banking_core import biller_keys, errors, schedule
from banking_core.billers import load_service
from banking_core.checkdigits import make_clabe
from banking_core.ledger import post_transfer
from banking_core.models import (
    Account, Agent, Biller, BillerReference, Credential, Customer, Domiciliation,
)
from banking_core.loader_schema import BankFile

DEMO_BANK = Path(__file__).with_name("demo_bank.yaml")
CAPITAL_ACCOUNT = "CAPITAL"


class BankFileError(ValueError):
    """The file is not a valid bank file; the message names the bad record."""


def _record_name(data, path) -> str:
    """Turn a pydantic location into words naming each record on the way."""
    parts, node = [], data
    for step in path:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            label = None
            if isinstance(node, dict):
                label = node.get("name") or node.get("label") or node.get("service_key") \
                    or node.get("username") \
                    or (node.get("number") if "kind" in node else None)
            parts[-1] = f"{parts[-1]}[{step}]" + (f" {str(label)!r}" if label else "")
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return " → ".join(parts)


def parse_bank_file(text: str, *, source: str = "bank file") -> BankFile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BankFileError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise BankFileError(f"{source}: expected a mapping with billers, customers, agents")
    try:
        return BankFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _record_name(data, err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {where}: {message}")
        raise BankFileError(f"{source}: {len(lines)} problem(s)\n" + "\n".join(lines)) from None


def _ensure_capital(session, now) -> int:
    capital = session.scalar(select(Account.id).where(Account.number == CAPITAL_ACCOUNT))
    if capital is None:
        capital = session.execute(insert(Account).values(
            number=CAPITAL_ACCOUNT, kind="capital", name="Capital del banco", created_at=now,
        ).returning(Account.id)).scalar_one()
    return capital


def load_bank_file(bank, bank_file: BankFile) -> dict[str, int]:
    """Insert everything in the file in one transaction; duplicates are errors."""
    now = bank.clock()
    counts = dict(billers=0, customers=0, accounts=0, credentials=0, agents=0,
                  domiciliations=0)
    hasher, policy = bank.hasher, bank.policy
    with bank.unit_of_work() as uow:
        s = uow.session
        capital = _ensure_capital(s, now)

        for i, spec in enumerate(bank_file.billers):
            where = f"billers[{i}] {spec.service_key!r}"
            if s.scalar(select(Biller.id).where(Biller.service_key == spec.service_key)):
                raise BankFileError(f"{where}: service key {spec.service_key} already exists")
            collection = s.execute(insert(Account).values(
                number=f"COBRO-{spec.service_key}", kind="collection",
                name=f"Cobranza {spec.name}", created_at=now,
            ).returning(Account.id)).scalar_one()
            biller = Biller(
                service_key=spec.service_key, name=spec.name, active=spec.active,
                collection_account_id=collection, created_at=now,
                amount_min_centavos=spec.amount.min, amount_max_centavos=spec.amount.max,
                amount_fixed_centavos=spec.amount.fixed,
                notification_url=spec.notification_url,
                return_origins=spec.return_origins or None,
                references=[
                    BillerReference(position=n, label=r.label, spoken_label=r.spoken_label,
                                    charset=r.charset,
                                    min_length=r.min_length, max_length=r.max_length,
                                    check_digit=r.check_digit)
                    for n, r in enumerate(spec.references, start=1)
                ],
            )
            s.add(biller)
            s.flush()
            counts["billers"] += 1
            for key in spec.keys:
                try:
                    biller_keys.add_key(s, hasher, biller_id=biller.id, key_id=key.key_id,
                                        secret=key.secret, now=now)
                except ValueError as exc:
                    raise BankFileError(f"{where} → keys: {exc}") from None

        for i, spec in enumerate(bank_file.customers):
            where = f"customers[{i}] {spec.name!r}"
            customer = Customer(name=spec.name, email=spec.email, phone=spec.phone, created_at=now)
            s.add(customer)
            s.flush()
            counts["customers"] += 1
            if spec.access_key:
                _add_credential(s, hasher, where, customer.id, "access_key",
                                spec.access_key.number, spec.access_key.nip, None, now)
                counts["credentials"] += 1
            for j, acc in enumerate(spec.accounts):
                at = f"{where} → accounts[{j}] {acc.number!r}"
                if s.scalar(select(Account.id).where(Account.number == acc.number)):
                    raise BankFileError(f"{at}: account number already exists")
                clabe = acc.clabe or make_clabe(policy.clabe_bank_code, policy.clabe_plaza_code,
                                                acc.number)
                if s.scalar(select(Account.id).where(Account.clabe == clabe)):
                    raise BankFileError(f"{at}: CLABE {clabe} already exists")
                account_id = s.execute(insert(Account).values(
                    customer_id=customer.id, number=acc.number, clabe=clabe, kind=acc.kind,
                    balance_centavos=0, created_at=now,
                    limit_phone_centavos=acc.limits.phone, limit_web_centavos=acc.limits.web,
                    limit_agent_centavos=acc.limits.agent,
                ).returning(Account.id)).scalar_one()
                counts["accounts"] += 1
                if acc.balance:
                    post_transfer(s, kind="opening", memo=f"saldo inicial {acc.number}",
                                  legs=[(capital, -acc.balance), (account_id, acc.balance)],
                                  now=now)
                if acc.card:
                    _add_credential(s, hasher, f"{at} → card", customer.id, "card",
                                    acc.card.number, acc.card.nip, account_id, now)
                    counts["credentials"] += 1
                if acc.login_nip:
                    _add_credential(s, hasher, f"{at} → login_nip", customer.id, "account",
                                    acc.number, acc.login_nip, account_id, now)
                    counts["credentials"] += 1
            for j, dom in enumerate(spec.domiciliations):
                _add_domiciliation(s, bank, f"{where} → domiciliations[{j}] {dom.service_key!r}",
                                   customer.id, spec, dom, now)
                counts["domiciliations"] += 1

        for i, spec in enumerate(bank_file.agents):
            if s.scalar(select(Agent.id).where(Agent.username == spec.username)):
                raise BankFileError(f"agents[{i}] {spec.username!r}: username already exists")
            s.add(Agent(username=spec.username, name=spec.name, role=spec.role,
                        password_hash=hasher.hash_secret(spec.password), created_at=now))
            counts["agents"] += 1
        uow.commit()
    return counts


def _add_credential(session, hasher, where, customer_id, kind, identifier, nip, account_id, now):
    lookup = hasher.lookup_hash(kind, identifier)
    if session.scalar(select(Credential.id).where(Credential.kind == kind,
                                                  Credential.lookup_hash == lookup)):
        # The message never repeats the identifier: it may be a card number.
        raise BankFileError(f"{where}: this {kind.replace('_', ' ')} is already registered")
    session.add(Credential(
        customer_id=customer_id, kind=kind, lookup_hash=lookup, last4=identifier[-4:],
        account_id=account_id, secret_hash=hasher.hash_secret(nip), failed_attempts=0,
        created_at=now,
    ))
    session.flush()


def _add_domiciliation(session, bank, where, customer_id, customer, spec, now) -> None:
    """A customer's domiciliation, checked by the rules a customer's meets
    (banking_core/domiciliations.py), except that its start may be past: its
    first charge is then the next date from the day it is loaded."""
    if spec.account not in {a.number for a in customer.accounts}:
        raise BankFileError(f"{where}: account {spec.account} is not one of this customer's")
    try:
        service = load_service(session, spec.service_key)
        references = service.check_references(spec.references)
        service.check_amount(spec.amount if spec.billed is None else spec.billed.ceiling)
    except errors.DomainError as exc:
        raise BankFileError(f"{where}: {exc.message}") from None
    today = now.astimezone(bank.policy.timezone).date()
    first = schedule.next_due(spec.day, start=spec.start, end=spec.end, today=today)
    if first is None:
        raise BankFileError(f"{where}: its end has passed: no charge is left")
    refs = list(references) + [None] * (3 - len(references))
    session.add(Domiciliation(
        customer_id=customer_id, biller_id=service.id, reference1=refs[0], reference2=refs[1],
        reference3=refs[2],
        account_id=session.scalar(select(Account.id).where(Account.number == spec.account)),
        amount_mode="fixed" if spec.billed is None else "billed", amount_centavos=spec.amount,
        ceiling_centavos=None if spec.billed is None else spec.billed.ceiling,
        day_of_month=spec.day, start_date=spec.start, end_date=spec.end, next_date=first,
        status="active", created_channel="loaded", created_at=now, updated_at=now))
    session.flush()


def load_file(bank, path: str | Path) -> dict[str, int]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BankFileError(f"{path}: cannot read: {exc.strerror}") from None
    return load_bank_file(bank, parse_bank_file(text, source=str(path)))


def bank_is_empty(bank) -> bool:
    with bank.unit_of_work() as uow:
        return not uow.session.scalar(select(func.count()).select_from(Customer))


def seed_demo(bank) -> dict[str, int]:
    return load_file(bank, DEMO_BANK)
