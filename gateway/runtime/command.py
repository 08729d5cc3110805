"""The `datagw` console script. `datagw health` runs without importing the
gateway: probes and Docker's HEALTHCHECK start it every few seconds, and
importing the rest (cli.py: the server, every domain, the backends'
drivers) would cost over a second of CPU and 80 MB each time. Every other
command is cli.main."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["health"]:
        from gateway.runtime import health_cli

        return health_cli.main(args[1:])
    from gateway.runtime import cli

    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
