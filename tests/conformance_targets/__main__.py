"""``python -m tests.conformance_targets <name>``: serve one broken target (see the package docstring)."""
import sys

from mocks.common import ServerThread

from .registry import TARGETS


def main(name: str) -> None:
    with ServerThread(TARGETS[name].build()) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
