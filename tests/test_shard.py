"""--shard i/n: n agents over one registry watch every target exactly once; adding a site moves no other."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from agent.workers.shard import bucket, in_shard, parse_shard

CODES = [f"44{n:08d}" for n in range(3000)] + [f"bm{n:08d}" for n in range(200)]
ACCOUNTS = [f"account-{n}" for n in range(1000)]
KEYS = CODES + ACCOUNTS


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_n_shards_cover_every_target_exactly_once(n: int) -> None:
    owners: Counter[int] = Counter()
    for key in KEYS:
        mine = [i for i in range(n) if in_shard(key, i, n)]
        assert len(mine) == 1, key
        owners[mine[0]] += 1
    assert set(owners) == set(range(n))
    # and fairly: no shard carries more than 15 % above its share
    assert max(owners.values()) < len(KEYS) / n * 1.15


def test_adding_a_site_moves_no_other() -> None:
    before = {k: bucket(k, 5) for k in CODES}
    after = {k: bucket(k, 5) for k in [*CODES, "4405070010"]}
    assert all(after[k] == before[k] for k in CODES)


def test_adding_a_shard_moves_only_what_the_new_shard_takes() -> None:
    moved = [k for k in KEYS if bucket(k, 4) != bucket(k, 5)]
    assert all(bucket(k, 5) == 4 for k in moved)
    assert 0.15 < len(moved) / len(KEYS) < 0.25  # about 1/5


def test_the_assignment_is_the_same_in_another_process() -> None:
    """Python's hash() is salted per process; the shard must not be."""
    code = "import sys; from agent.workers.shard import bucket; print([bucket(k, 7) for k in sys.argv[1:]])"
    out = subprocess.run(
        [sys.executable, "-c", code, *CODES[:50]],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert out.stdout.strip() == str([bucket(k, 7) for k in CODES[:50]])


@pytest.mark.parametrize(
    ("spec", "host", "expected"),
    [
        ("0/1", "", (0, 1)),
        ("2/3", "", (2, 3)),
        ("auto/3", "xuncha-2", (2, 3)),
        ("auto/4", "xuncha-agent-0", (0, 4)),
    ],
)
def test_parse_shard(spec: str, host: str, expected: tuple[int, int]) -> None:
    assert parse_shard(spec, host) == expected


@pytest.mark.parametrize(
    ("spec", "host"),
    [
        ("3/3", ""),
        ("1", ""),
        ("a/3", ""),
        ("0/0", ""),
        ("auto/3", "xuncha"),
        ("auto/3", "xuncha-3"),
        ("-1/3", ""),
    ],
)
def test_parse_shard_rejects(spec: str, host: str) -> None:
    with pytest.raises(ValueError):
        parse_shard(spec, host)


def test_in_shard_rejects_an_index_outside_the_shards() -> None:
    with pytest.raises(ValueError):
        in_shard("4405070010", 3, 3)
