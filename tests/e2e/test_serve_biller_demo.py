"""`ivr serve` (what `make run` starts) also serves the example biller's site
beside the bank, outside production: said in the banner, restarted if it dies,
stopped with everything else by Ctrl-C."""
import os
import re
import signal
import socket
import types
from pathlib import Path

import click
import pytest
import requests

from linea_directa.cli import biller_demo_child
from tests.served import Served, alive, descendants, free_port, wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


def biller_pid(served) -> int | None:
    for pid in descendants(served.process.pid):
        try:
            if b"example_biller" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def test_serve_runs_the_example_biller_beside_the_bank_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    served = Served(tmp_path, BILLER_DEMO_PORT=str(port)).prepare()
    try:
        served.start()
        biller = f"http://127.0.0.1:{port}"
        wait_for(lambda: "Ctrl-C stops" in served.output(), timeout=30, what="the banner")
        banner = served.output()
        assert re.search(rf"Sitio de ejemplo de un comercio \(servicio 25\) +{biller}/", banner)
        assert "Ctrl-C stops the server, the worker and the example biller site." in banner

        def cart():
            try:
                return requests.get(f"{biller}/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(cart, timeout=30, what="the example biller's cart")
        confirm = requests.post(f"{biller}/pagar", data={
            "matricula": "110045134", "concepto": "colegiatura",
            "correo": "alumno@universidad.example"}, timeout=5)
        assert f'action="{served.url}/conexion/cobro"' in confirm.text
        assert (served.instance / "example_biller.sqlite3").exists()

        first = biller_pid(served)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: "example biller site restarted" in served.output(), timeout=30,
                 what="the example biller restarted")
        assert "The bank keeps serving" in served.output()
        wait_for(cart, timeout=30, what="the example biller's cart again")

        processes = descendants(served.process.pid)
        assert served.stop(signal.SIGINT) == 0
        assert [pid for pid in processes if alive(pid)] == []
        assert "Traceback" not in served.output()
    finally:
        served.kill()


def test_no_example_biller_in_production_nor_on_a_taken_port(tmp_path, capsys):
    settings = types.SimpleNamespace(environment="production", instance_path=tmp_path)
    assert biller_demo_child(settings, "127.0.0.1", 5001, "http://127.0.0.1:5000") is None
    settings.environment = "development"
    assert biller_demo_child(settings, "127.0.0.1", 0, "http://127.0.0.1:5000") is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with click.Context(click.Command("serve")):
            assert biller_demo_child(settings, "127.0.0.1", port, "http://x") is None
    assert f"port {port} is in use, not started" in capsys.readouterr().out
    child = biller_demo_child(settings, "127.0.0.1", free_port(), "http://127.0.0.1:5000")
    assert child.restart and "example_biller" in child.argv
