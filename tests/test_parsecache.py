"""The parsed registry kept in the state directory (agent.registry.parsecache): a restart skips the parse."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

from agent.registry import parsecache
from agent.registry.config import ConfigError, load

PADDING = "#" + " pad" * 300_000 + "\n"  # over parsecache.MIN_BYTES: only large registries are kept


def registry(tmp_path: Path, sites: int, state_dir: Path | None = None) -> Path:
    lines = [PADDING]
    if state_dir is not None:
        lines.append(f"state_dir: '{state_dir}'  # where the agent keeps its state\n")
    lines.append("sites:\n")
    for i in range(sites):
        lines.append(f'  - {{code: "44050700{i:02d}", name: 站点{i}, url: "https://www.s{i}.gov.cn/"}}\n')
    path = tmp_path / "xuncha.yml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def kept(state_dir: Path) -> list[Path]:
    folder = state_dir / parsecache.DIRECTORY
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_large_registry_is_parsed_once_and_read_back_the_same(tmp_path):
    state = tmp_path / "state"
    path = registry(tmp_path, 3)
    first = load(path, parse_cache=True, state_dir=str(state))
    (cache,) = kept(state)
    # The second load reads the kept document: change what it says, and the load says it too.
    doc = marshal.loads(cache.read_bytes()[len(parsecache._MAGIC) :])
    assert [s["code"] for s in doc["sites"]] == ["4405070000", "4405070001", "4405070002"]
    doc["sites"][0]["name"] = "从缓存读出"
    cache.write_bytes(parsecache._MAGIC + marshal.dumps(doc))
    again = load(path, parse_cache=True, state_dir=str(state))
    assert again.sites[0].name == "从缓存读出" and again.sites[1:] == first.sites[1:]


def test_the_cache_is_validated_like_the_file(tmp_path):
    state = tmp_path / "state"
    path = registry(tmp_path, 2)
    load(path, parse_cache=True, state_dir=str(state))
    (cache,) = kept(state)
    doc = marshal.loads(cache.read_bytes()[len(parsecache._MAGIC) :])
    doc["sites"][1]["code"] = "not-a-code"
    cache.write_bytes(parsecache._MAGIC + marshal.dumps(doc))
    with pytest.raises(ConfigError) as e:
        load(path, parse_cache=True, state_dir=str(state))
    assert "sites[1]" in str(e.value.issues[0]) and "code" in str(e.value.issues[0])


def test_a_changed_file_is_parsed_again_and_replaces_the_old_entry(tmp_path):
    state = tmp_path / "state"
    load(registry(tmp_path, 2), parse_cache=True, state_dir=str(state))
    (old,) = kept(state)
    cfg = load(registry(tmp_path, 3), parse_cache=True, state_dir=str(state))
    assert len(cfg.sites) == 3
    (new,) = kept(state)
    assert new != old


@pytest.mark.parametrize("damage", [b"", b"xuncha-registry\n\xff\x00", b"something else entirely"])
def test_a_damaged_entry_is_parsed_again(tmp_path, damage):
    state = tmp_path / "state"
    path = registry(tmp_path, 2)
    load(path, parse_cache=True, state_dir=str(state))
    (cache,) = kept(state)
    cache.write_bytes(cache.read_bytes()[: len(parsecache._MAGIC) + 10] if not damage else damage)
    cfg = load(path, parse_cache=True, state_dir=str(state))
    assert [s.code for s in cfg.sites] == ["4405070000", "4405070001"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_state_directory_that_cannot_be_written_is_not_used(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o500)
    try:
        assert len(load(registry(tmp_path, 2), parse_cache=True, state_dir=str(state)).sites) == 2
    finally:
        state.chmod(0o700)
    assert kept(state) == []


def test_a_state_directory_that_is_a_file_is_not_used(tmp_path):
    state = tmp_path / "state"
    state.write_text("not a directory")
    assert len(load(registry(tmp_path, 2), parse_cache=True, state_dir=str(state)).sites) == 2


def test_the_declared_state_dir_is_used_without_a_flag_and_small_files_are_not_kept(tmp_path):
    state = tmp_path / "declared"
    load(registry(tmp_path, 2, state_dir=state), parse_cache=True)
    assert len(kept(state)) == 1
    small = tmp_path / "small.yml"
    small.write_text(f"state_dir: {tmp_path / 'small-state'}\nsites: []\n", encoding="utf-8")
    load(small, parse_cache=True)
    assert kept(tmp_path / "small-state") == []


def test_check_config_reads_the_file_itself(tmp_path):
    state = tmp_path / "state"
    load(registry(tmp_path, 2), state_dir=str(state))  # parse_cache off: nothing written
    assert kept(state) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("state_dir: /var/lib/xuncha\n", "/var/lib/xuncha"),
        ("a: 1\nstate_dir: './data'  # comment\n", "./data"),
        ('state_dir: "/srv/x y"\n', "/srv/x y"),
        ("content:\n  state_dir: /nested/is/not/top\n", None),
        ("sites: []\n", None),
    ],
)
def test_the_state_dir_is_found_before_parsing(text, found):
    assert parsecache.declared_state_dir(text) == found


def test_xuncha_run_reads_the_registry_through_the_cache(tmp_path):
    # The run's loading process (agent.workers.supervisor.load_split) keeps it; check-config does not.
    from agent.workers.supervisor import load_split

    state = tmp_path / "state"
    path = registry(tmp_path, 3)
    first = load_split(path, 2, state_dir=str(state))
    assert len(kept(state)) == 1
    second = load_split(path, 2, state_dir=str(state))
    assert isinstance(first, tuple) and isinstance(second, tuple)
    assert first[1].sites == second[1].sites == ("4405070000", "4405070001", "4405070002")
