"""A broken echo server: its listening socket is made at module level, outside the guard.

``python -m harness.controls._module_level_socket --host H --port N --backend spawn``.
Under spawn and forkserver every handler re-imports this module as ``__mp_main__`` and so
tries to bind the port again, which the server holds: the handler dies with EADDRINUSE
before it reads a byte. (Kept out of ``CONTROLS`` discovery by its leading underscore:
importing it binds a socket.)
"""

from __future__ import annotations

import argparse
import sys

from harness.echo import server

_parser = argparse.ArgumentParser()
_parser.add_argument("--host", default="127.0.0.1")
_parser.add_argument("--port", type=int, required=True)
_parser.add_argument("--backend", default="spawn")
_args, _ = _parser.parse_known_args()

LISTENER = server.listen(_args.host, _args.port)  # the defect: at import time

if __name__ == "__main__":
    server.serve(_args.host, _args.port, _args.backend, listener=LISTENER)
    sys.exit(0)
