"""`python -m example_biller --port 5001 --bank-url http://127.0.0.1:5000`:
the example biller's site on a small threaded server (a demo, never
production). SIGINT and SIGTERM stop it at once."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from werkzeug.serving import make_server

from example_biller import create_app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_biller")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--bank-url", help="where Conexión Personal answers")
    parser.add_argument("--data", help="the SQLite file this site keeps its orders in")
    args = parser.parse_args(argv)
    config = {name: value for name, value in (("BANK_URL", args.bank_url), ("DATA", args.data))
              if value}
    server = make_server(args.host, args.port, create_app(config), threaded=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    print(f"example biller serving on http://{args.host}:{args.port}/", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
