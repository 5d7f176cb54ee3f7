"""``python -m tests.conformance_targets <name>``: serve one broken target (see the package docstring),
or one of the incomplete targets the preflight tests use."""
import json
import sys

from mocks.common import ServerThread

from .registry import INCOMPLETE, MINIMAL_RECEIVER, TARGETS, incomplete_app, minimal_receiver


def main(name: str) -> None:
    if name == MINIMAL_RECEIVER:  # one JSON line: its URL and the credentials it was set up with
        app, credentials = minimal_receiver()
        with ServerThread(app) as server:
            print(json.dumps({"url": server.url, **credentials}), flush=True)
            sys.stdin.read()
        return
    app = incomplete_app(name) if name in INCOMPLETE else TARGETS[name].build()
    with ServerThread(app) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
