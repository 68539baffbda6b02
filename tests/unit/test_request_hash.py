"""The fingerprint stored with every payment (payments.request_hash).

A retry is matched against the fingerprint its first attempt stored, maybe
by an earlier version of this code: the canonical form may never change, or a
retry across a deploy would be refused as a different payment.
"""
from banking_core.payments import request_hash


def test_the_fingerprint_is_the_sha256_of_the_compact_json_list():
    # sha256 of '[7,"phone",42,"1411",["9876543217","\u00d1A"],65050,null]'
    assert request_hash(customer_id=7, channel="phone", account_id=42, service_key="1411",
                        references=("9876543217", "ÑA"), amount_centavos=65050,
                        agent_id=None) \
        == "b38eb2b7856c84c64cc9b26aeecf93b3af82a88a0ff076bafda6e31c975e97c7"
