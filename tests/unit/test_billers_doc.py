"""docs/billers.md's worked example is what the code computes: the request's
and the result's canonical strings and signatures, with the demo secret."""
import re
from pathlib import Path

import pytest

from banking_core import checkout, signing
from example_biller import signatures

DOC = (Path(__file__).resolve().parents[2] / "docs" / "billers.md").read_text(encoding="utf-8")
SECRET = "demo-universidad-25-secreto-compartido-01"


def block(name: str) -> str:
    found = re.search(rf"<!-- example:{name} -->\n```text\n(.*?)\n```", DOC, re.S)
    assert found, f"docs/billers.md has no example:{name} block"
    return found.group(1)


def fields(name: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in block(name).splitlines())


@pytest.mark.parametrize("example", ["request", "result"])
def test_the_docs_example_is_what_the_code_computes(example):
    given = fields(example)
    assert signing.canonical_fields(given).decode() == block(f"{example}-canonical")
    assert signing.sign_fields(SECRET, given) == block(f"{example}-signature")
    assert signatures.sign(SECRET, given) == block(f"{example}-signature")


def test_the_docs_example_names_every_field_the_bank_knows():
    assert set(fields("request")) == set(checkout.REQUIRED) - {"signature"}
    assert set(fields("result")) == set(checkout.RESULT_FIELDS)
    assert SECRET in DOC and "25-demo" in DOC
