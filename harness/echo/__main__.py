"""``python -m harness.echo serve [--host H] [--port N] [--backend NAME]``: procspec's server.

Binds loopback by default; ``--port 0`` (the default) lets the OS choose, and the server
prints ``listening HOST PORT`` once it accepts connections. ``--backend`` is any backend
name (harness.backends): ``fork``, ``spawn``, ``forkserver``, ``billiard``, ...

``python -m harness.echo page-server [--host H] [--port N]``: the page's server as written
(default start method, fork here), which keeps its copy of each accepted socket until the
next ``accept()``: the named server ``page-server`` (``--echo-server page-server``).
"""

from __future__ import annotations

import sys

from harness.echo import LOOPBACK

# typing only for the type checker (children import this module: harness/child/targets.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

# Under spawn and forkserver every handler re-imports this module (as __mp_main__), so what
# only the command line needs is imported in main().


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.echo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run procspec's one-process-per-connection server")
    serve.add_argument("--host", default=LOOPBACK)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--backend", default="fork",
                       help="the implementation that starts each handler (default fork)")
    page = sub.add_parser("page-server", help="run the page's server as written (keeps its "
                                              "copy of the accepted socket)")
    page.add_argument("--host", default=LOOPBACK)
    page.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    from harness.echo.server import serve as run

    try:
        if args.command == "page-server":
            run(args.host, args.port, "fork", keep_accepted=True)
        else:
            run(args.host, args.port, args.backend)
    except KeyboardInterrupt:
        return 130
    return 0


# The guard matters: spawn and forkserver children re-import this module as __mp_main__,
# and must not create a second listening socket (measured: they die with EADDRINUSE).
if __name__ == "__main__":
    sys.exit(main())
