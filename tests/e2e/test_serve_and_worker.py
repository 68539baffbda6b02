"""`ivr serve` (what `make run` starts) runs the web server and the worker
together as real processes: a payment's e-mail reaches the outbox folder by
itself, a worker that dies is restarted while the server keeps serving, and
Ctrl-C (or SIGTERM) leaves no process behind."""
import os
import re
import signal

import pytest
import requests

from qa.simulator import HttpTransport, SimulatedCall
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi
from tests.served import AUTH_TOKEN, Served, alive, descendants, wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


@pytest.fixture
def served(tmp_path):
    instance = Served(tmp_path).prepare()
    yield instance
    instance.kill()


def pay_by_phone(served) -> str:
    call = SimulatedCall(HttpTransport(), base_url=served.url, auth_token=AUTH_TOKEN)
    call.start()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")                     # the amount is right
    heard = call.press("1")             # confirm
    folio = re.search(r"folio es ([\w ,]+?)\.", heard.text)
    assert folio, heard.text
    return "".join(re.findall(r"\d", folio.group(1))) or folio.group(1)


def worker_pid(served) -> int:
    found = re.search(r"Worker \(e-mails, transcripts sweep\) +running \(pid (\d+)\)",
                      served.output())
    assert found, served.output()
    return int(found.group(1))


def test_a_phone_payment_is_e_mailed_by_the_worker_and_ctrl_c_stops_everything(served):
    served.start()
    banner = served.output()
    assert f"Línea Directa serving on {served.url}" in banner
    assert f"as files in {served.outbox}/" in banner and "Ctrl-C stops the server and the worker" \
        in banner
    worker = worker_pid(served)
    processes = descendants(served.process.pid)
    assert worker in processes and len(processes) >= 3  # gunicorn, its worker, ours

    pay_by_phone(served)
    mails = wait_for(lambda: list(served.outbox.glob("*.eml")), timeout=60,
                     what="the payment's e-mail in the outbox folder")
    assert "Comprobante de pago" in mails[0].read_text(encoding="utf-8")

    assert served.stop(signal.SIGINT) == 0
    assert [pid for pid in processes if alive(pid)] == []
    assert "Traceback" not in served.output()


def test_a_dead_worker_is_restarted_and_sigterm_stops_both(served):
    served.start()
    first = worker_pid(served)
    os.kill(first, signal.SIGKILL)
    restarted = wait_for(lambda: re.search(r"worker restarted \(pid (\d+)\)", served.output()),
                         timeout=30, what="the worker restarted")
    assert "worker exited (killed by SIGKILL); restarting it in 1 s" in served.output()
    assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200
    second = int(restarted.group(1))
    assert alive(second)

    pay_by_phone(served)  # the new worker delivers
    wait_for(lambda: list(served.outbox.glob("*.eml")), timeout=60,
             what="the payment's e-mail, sent by the restarted worker")

    processes = descendants(served.process.pid)
    assert served.stop(signal.SIGTERM) == 0
    assert [pid for pid in processes if alive(pid)] == []


def test_without_the_worker_the_banner_says_who_sends_the_e_mails(served):
    served.start("--no-worker")
    assert "not started (--no-worker): e-mails wait in the outbox until `ivr notify send`" \
        in served.output()
    assert served.stop() == 0
