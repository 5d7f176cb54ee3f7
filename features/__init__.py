"""The shipped conformance features (``harness.features`` in the wheel).

``SHIPPED`` names them: a QA engineer's own ``.feature`` file dropped into this folder runs with
``cohort-harness conform --features features/theirs.feature`` and never changes the shipped suite,
its rule coverage or the README's coverage table. A new shipped feature is added here (a test checks
that every feature file the repository tracks is listed)."""

SHIPPED = (
    "data_points.feature",
    "failures.feature",
    "keys_and_connection.feature",
    "matching.feature",
    "partner_api.feature",
    "retention.feature",
    "segments_and_targeting.feature",
    "sync.feature",
)
