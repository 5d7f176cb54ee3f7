"""``python -m tests.conformance_targets <name>``: serve one broken target (see the package docstring),
or one of the incomplete targets the preflight tests use."""
import sys

from mocks.common import ServerThread

from .registry import INCOMPLETE, TARGETS, incomplete_app


def main(name: str) -> None:
    app = incomplete_app(name) if name in INCOMPLETE else TARGETS[name].build()
    with ServerThread(app) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
