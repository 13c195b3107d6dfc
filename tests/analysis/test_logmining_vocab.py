"""Tests of shared variable vocabularies (MinerConfig.shared_values, logmining/vocab.py)."""

from __future__ import annotations

from day2ai.analysis.logmining import MinerConfig, TemplateMiner
from day2ai.analysis.logmining.vocab import SharedValues, sibling_groups

USERS = ["cyrus", "news", "test", "root"]


def test_learned_words_are_known_only_within_one_vocabulary() -> None:
    shared = SharedValues(limit=100, caps=True)
    assert not shared.known(["cyrus", "news"])
    assert shared.learn(["cyrus", "news", "<*>", "test"]) == frozenset({"cyrus", "news", "test"})
    assert shared.known(["news", "cyrus"]) and shared.known(["test"])
    assert not shared.known(["news", "opened"])
    assert shared.learn(["news", "test"]) is None  # nothing new
    assert shared.learn(["test", "root"]) == frozenset(USERS)  # vocabularies sharing a word join
    assert shared.known(["root", "cyrus"])
    assert shared.vocabularies() == [sorted(USERS)]


def test_state_names_and_single_words_are_not_learned_and_memory_is_bounded() -> None:
    shared = SharedValues(limit=5, caps=True)
    assert shared.learn(["RUNNING", "FAILED"]) is None
    assert shared.learn(["alone", "<*>"]) is None
    assert SharedValues(limit=5, caps=False).learn(["RUNNING", "FAILED"]) is not None
    shared.learn(["a", "b", "c"])
    shared.learn(["d", "e", "f"])  # would exceed the limit: the table starts afresh
    assert len(shared) == 3 and shared.known(["d", "f"]) and not shared.known(["a"])


def test_sibling_groups_differ_in_one_position_only() -> None:
    templates = [
        ["opened", "for", "cyrus", "by", "<*>"],
        ["opened", "for", "news", "by", "<*>"],
        ["closed", "for", "news", "by", "<*>"],
        ["opened", "for", "guest", "by", "<*>"],
        ["opened", "to", "test", "by", "<*>"],
    ]
    assert sibling_groups(templates, frozenset(USERS)) == [[0, 1]]


def _session_lines() -> list[str]:
    opened = [f"session opened for user {u} by (uid=0)" for u in USERS[:3]]
    closed = [f"session closed for user {u}" for u in USERS]  # four values: a variable
    return opened + closed


def test_values_of_a_merged_variable_merge_their_statement_elsewhere() -> None:
    miner = TemplateMiner()
    ids = [miner.resolve(i) for i in miner.add_many(_session_lines())]
    assert len(set(ids[:3])) == 1  # three user names only: merged because "closed" showed four
    assert len(set(ids[3:])) == 1 and ids[0] != ids[3]
    assert miner.template(ids[0]) == "session opened for user <*> by (uid=<*>)"

    plain = TemplateMiner(MinerConfig(shared_values=False))
    ids = [plain.resolve(i) for i in plain.add_many(_session_lines())]
    assert len(set(ids[:3])) == 3 and len(set(ids[3:])) == 1


def test_words_outside_the_vocabulary_still_need_their_own_evidence() -> None:
    miner = TemplateMiner()
    miner.add_many(_session_lines())
    view = miner.resolve(miner.add_id("Changing view acls for user news"))
    modify = miner.resolve(miner.add_id("Changing modify acls for user news"))
    assert view != modify


def test_vocabularies_survive_a_state_round_trip() -> None:
    miner = TemplateMiner()
    miner.add_many([f"session closed for user {u}" for u in USERS])
    miner.add_id("job started by cyrus")
    restored = TemplateMiner.from_json(miner.to_json())
    first = restored.resolve(restored.add_id("job started by news"))
    assert restored.resolve(restored.add_id("job started by cyrus")) == first
    assert restored.template(first) == "job started by <*>"
