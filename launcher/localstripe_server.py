"""Run localstripe bound to one address, with its state in a file of our choosing.

`localstripe --port P` (1.15.10) binds `::` (every interface, IPv4 and IPv6) and pickles
its whole store to the fixed path /tmp/localstripe.pickle after every write, so two
instances on one machine overwrite each other's state and a test run sees the previous
run's objects. This wrapper serves the same aiohttp app on `--host` and keeps the state in
`--state-file` (or in memory only, with `--from-scratch` and no state file).

    python -m launcher.localstripe_server --host 127.0.0.1 --port 8420 --state-file DIR/localstripe.pickle
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import sys
from pathlib import Path
from typing import Any


def _use_state_file(store_class: Any, path: Path | None) -> None:
    def try_load_from_disk(self: dict[str, Any]) -> None:
        if path is None:
            return
        try:
            with open(path, "rb") as file:
                old = pickle.load(file)
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self: dict[str, Any]) -> None:
        if path is None:
            return
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as file:
            pickle.dump(self, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)

    store_class.try_load_from_disk = try_load_from_disk
    store_class.dump_to_disk = dump_to_disk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.localstripe_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None, help="where to keep state (default: memory)")
    parser.add_argument("--from-scratch", action="store_true", help="ignore the saved state")
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources, server

    _use_state_file(resources.Store, args.state_file)
    if not args.from_scratch:
        resources.store.try_load_from_disk()

    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler())
    web.run_app(server.app, host=args.host, port=args.port, access_log=access_log, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
