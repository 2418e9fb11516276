"""Shared test fixtures: where the shared data lives, the opt-in campaign marker, the
Hypothesis profiles, and the per-test time limits.

Hypothesis profiles (see README, "Tests"):

* `ci` (the default, what `python3 -m pytest -n 2 -q` and .ci/run use) is derandomized: each
  test draws the same examples on every run, so a red or green result never depends on luck,
  and a failure prints the blob that reproduces it. It has no deadline: wall-clock limits on a
  shared machine would make the verdict depend on the load (tests never time anything).
* `random` (with `--campaign`, or `--hypothesis-profile random`) draws fresh examples on every
  run, as Hypothesis does by default, to find what the fixed examples miss; a failure prints
  its reproduction blob too.

Time limits (pytest-timeout): every test has the default of pyproject.toml, generous for the
slowest default-suite test on a loaded 2-core machine, so that a hung test is a red test and
never a hung job; campaign tests get `CAMPAIGN_TIMEOUT_S`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CAMPAIGN_TIMEOUT_S = 3600  # the longest campaigns (model checking at the CLI defaults) take minutes

settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                          deadline=None)
settings.register_profile("random", derandomize=False, print_blob=True)
settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--campaign",
        action="store_true",
        default=False,
        help="also run the long campaigns (many seeds, large bounds) marked 'campaign', with "
             "the 'random' Hypothesis profile",
    )
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files of tests/golden/ from the current output (review the diff)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Runs before test modules are imported, so their settings(...) inherit the profile.
    # An explicit --hypothesis-profile wins (Hypothesis' own plugin loads it after this).
    if config.getoption("--campaign") and config.getoption("hypothesis_profile") is None:
        settings.load_profile("random")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--campaign"):
        for item in items:
            if "campaign" in item.keywords and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(CAMPAIGN_TIMEOUT_S))
        return
    skip = pytest.mark.skip(reason="long campaign: run with --campaign")
    for item in items:
        if "campaign" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the project's root; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA
