"""Tests of the streaming log-template miner: masking, grouping, refinement, state, eviction."""

from __future__ import annotations

import json
import random

import pytest

from day2ai.analysis.logmining import MaskingConfig, MaskingRule, MinerConfig, TemplateMiner
from day2ai.analysis.logmining.masking import Masker, build_masker, render_template
from day2ai.analysis.logmining.miner import merge_tokens
from day2ai.errors import ConfigError, InputError


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("connect to 10.1.2.3:8080 failed", "connect to <*> failed"),
        ("took 250ms and 3.5 s", "took <*> and <*> s"),
        ("id 123e4567-e89b-12d3-a456-426614174000 done", "id <*> done"),
        ("reading /var/log/app/x.log now", "reading <*> now"),
        ("addr 0xdeadBEEF", "addr <*>"),
        ("block blk_-12345 and blk_678", "block <*> and <*>"),
        ("see https://example.com/a?b=1 ok", "see <*> ok"),
        ("at Fri Jun 17 07:07:00 2005 x", "at <*> x"),
        ("node node-12 up", "node node-<*> up"),
        ("generating core.2275", "generating core.<*>"),
        ("proxy SOCKS5 via eth0", "proxy SOCKS5 via eth0"),
        ("stored 5.2 KB", "stored <*>"),
        ("mac FF:F2:9F:16:BF:6C:00:0D", "mac <*>"),
        ("plain words only", "plain words only"),
    ],
)
def test_default_masking(message: str, expected: str) -> None:
    masked = Masker().mask(message)
    assert render_template(masked.split()) == expected


def test_masking_is_configurable() -> None:
    masker = build_masker(enabled=["quoted", "number"], extra=[MaskingRule(name="user", pattern=r"user=\w+")])
    assert masker.mask("user=bob said 'hi there' 3 times") == "<*> said <*> <*> times"
    with pytest.raises(ConfigError):
        build_masker(enabled=["nope"])
    with pytest.raises(ConfigError):
        build_masker(extra=[{"name": "x", "pattern": "("}])  # type: ignore[list-item]


def test_render_collapses_glued_variables() -> None:
    assert render_template(["a", "<*>:<*>", "blk_<*>", "<*>.<*>.<*>", "b"]) == "a <*> <*> <*> b"
    assert render_template(["x", "node-<*>", "#<*>"]) == "x node-<*> #<*>"


def test_merge_tokens_keeps_delimited_prefix_and_suffix() -> None:
    assert merge_tokens("environment:java.version=1", "environment:user.name=zk") == "environment:<*>"
    assert merge_tokens("a(b)", "a(c)") == "a(<*>)"
    assert merge_tokens("abc", "xyz") == "<*>"


def _random_word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))


def test_groups_lines_by_template_with_variables() -> None:
    rng = random.Random(3)
    miner = TemplateMiner()
    shapes = [
        "Receiving block blk_{n} src: /10.0.{a}.{b}:{p} dest: /10.0.{b}.{a}:50010",
        "PacketResponder {a} for block blk_{n} terminating",
        "session opened for user {w} by (uid={a})",
        "Connection from {w} closed after {a} ms",
    ]
    expected = {}
    for _ in range(400):
        k = rng.randrange(len(shapes))
        line = shapes[k].format(
            n=rng.randrange(10**12),
            a=rng.randrange(256),
            b=rng.randrange(256),
            p=rng.randrange(65536),
            w=_random_word(rng),
        )
        tid = miner.resolve(miner.add(line).template_id)
        expected.setdefault(k, set()).add(tid)
    final = {k: {miner.resolve(t) for t in ids} for k, ids in expected.items()}
    assert all(len(ids) == 1 for ids in final.values()), final
    assert len({next(iter(ids)) for ids in final.values()}) == len(shapes)
    texts = {miner.template(next(iter(ids))) for ids in final.values()}
    assert "session opened for user <*> by (uid=<*>)" in texts
    assert "Receiving block <*> src: <*> dest: <*>" in texts


def test_states_in_capitals_are_not_merged() -> None:
    miner = TemplateMiner()
    ids = {
        miner.add(f"task {i} Transitioned from {a} to {b}").template_id
        for i, (a, b) in enumerate([("NEW", "SCHEDULED"), ("SCHEDULED", "RUNNING"), ("RUNNING", "SUCCEEDED")] * 5)
    }
    assert len({miner.resolve(t) for t in ids}) == 3


def test_template_refines_and_ids_stay_stable() -> None:
    miner = TemplateMiner(MinerConfig(min_distinct_values=3))
    first = miner.add("service alpha started")
    assert first.is_new and first.template == "service alpha started"
    second = miner.add("service beta started")
    third = miner.add("service gamma started")
    assert third.changed and third.template == "service <*> started"
    assert miner.resolve(second.template_id) == first.template_id == third.template_id
    again = miner.add("service delta started")
    assert not again.is_new and not again.changed and again.template_id == first.template_id
    assert miner.match("service omega started") == first.template_id
    assert miner.match("completely different line here") is None


def test_eviction_caps_templates() -> None:
    miner = TemplateMiner(MinerConfig(max_templates=10))
    for i in range(50):
        miner.add(f"event{chr(97 + i % 26)}{chr(97 + i // 26)} happened here now")
    assert len(miner.templates()) == 10
    assert miner.evicted == 40
    assert miner.add("eventzz happened here now").is_new


def test_state_round_trip_is_plain_json() -> None:
    miner = TemplateMiner(MinerConfig(min_distinct_values=2))
    for line in ["user a in", "user b in", "disk 1 full", "disk 2 full"]:
        miner.add(line)
    text = miner.to_json()
    doc = json.loads(text)
    assert doc["version"] == 1 and len(doc["templates"]) == 2
    clone = TemplateMiner.from_json(text)
    assert [t.model_dump() for t in clone.templates()] == [t.model_dump() for t in miner.templates()]
    nxt = clone.add("user c in")
    assert not nxt.is_new and nxt.template == "user <*> in"
    assert clone.add("brand new line").template_id == miner.add("brand new line").template_id


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"version": 99, "config": {}, "next_id": 1, "lines": 0, "templates": []}',
        '{"version": 1, "config": {}, "next_id": 1, "lines": 0, "templates": '
        '[{"number": 1, "tokens": ["a"], "open": [false], "count": 1, "first_line": 1, "last_line": 1}]}',
        '{"version": 1, "config": {"similarity_threshold": 7}, "next_id": 1, "lines": 0, "templates": []}',
        '{"version": 1, "config": {}, "next_id": 2, "lines": 0, "templates": '
        '[{"number": 1, "tokens": ["a", "b"], "open": [false], "count": 1, '
        '"first_line": 1, "last_line": 1}]}',
    ],
)
def test_bad_state_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        TemplateMiner.from_json(text)


def test_masking_config_round_trips_in_state() -> None:
    config = MinerConfig(masking=MaskingConfig(enabled=("number",)))
    miner = TemplateMiner(config)
    miner.add("x 10.0.0.1 y")
    clone = TemplateMiner.from_json(miner.to_json())
    assert clone.config == config
    assert clone.templates()[0].template == "x <*>.<*>.<*>.<*> y".replace("<*>.<*>.<*>.<*>", "<*>")


def test_long_messages_are_cut_to_the_configured_length() -> None:
    miner = TemplateMiner(MinerConfig(max_message_chars=100))
    first = miner.add("head " + " ".join(f"k{i}=v{i}" for i in range(5000)))
    second = miner.add("head " + " ".join(f"k{i}=w{i}" for i in range(6000)))
    assert first.template_id == second.template_id  # equal once cut at 100 characters
    assert len(first.template.split()) <= 20  # not 5001 tokens
    numbers = miner.add("head " + " ".join(f"{i} KB" for i in range(100_000)))  # long run: linear time
    assert numbers.template.startswith("head <*>")


def test_partly_masked_compound_values_merge_without_waiting_for_evidence() -> None:
    # host:port where the masking caught only the port (one dot: not surely an endpoint)
    miner = TemplateMiner(MinerConfig(min_distinct_values=6))
    hosts = ["github.com:443", "www.google.com:80", "trello.com:443", "csdnimg.cn:80"]
    ids = {miner.add_id(f"{host} open through proxy proxy.example.org:5070 HTTPS") for host in hosts}
    assert len({miner.resolve(i) for i in ids}) == 1
    assert miner.templates()[0].template == "<*> open through proxy <*> HTTPS"


def test_a_constant_glued_to_a_variable_still_separates_statements() -> None:
    miner = TemplateMiner()
    a = miner.add_id("session opened for user root by (uid=0)")
    b = miner.add_id("session opened for user root by LOGIN(uid=0)")
    c = miner.add_id("session opened for user news by (uid=12)")
    assert miner.resolve(a) != miner.resolve(b)
    assert miner.resolve(c) == miner.resolve(a) or miner.template(c) is not None


def test_word_positions_keeps_only_differences_that_can_be_constants() -> None:
    from day2ai.analysis.logmining.merging import word_positions

    template = ["a.b:<*>", "<*>", "(uid=<*>)", "opened", "x:<*>"]
    tokens = ["c.d:<*>", "x-<*>", "LOGIN(uid=<*>)", "closed", "<*>"]
    assert word_positions(template, [False] * 5, tokens, [0, 1, 2, 3, 4]) == [0, 2, 3]


def test_a_word_that_fits_a_masked_pattern_is_the_same_variable() -> None:
    from day2ai.analysis.logmining.merging import word_positions

    # glue around the variable fits the other word: one variable, masked in one line only
    template = ["chdir(<*>)", "rhost=<*>", "ip-<*>.net", "<*>", "(uid=<*>)", "x:<*>"]
    tokens = ["chdir(pwd)", "rhost=<*>.example.net", "dsl-<*>", "opened", "LOGIN(uid=<*>)", "y:z"]
    # a bare variable says nothing about a plain word's form; other glue keeps them apart
    assert word_positions(template, [False] * 6, tokens, list(range(6))) == [2, 3, 4, 5]
    assert word_positions(tokens, [False] * 6, template, list(range(6))) == [2, 3, 4, 5]


def test_an_unmasked_value_joins_the_template_of_its_masked_values() -> None:
    miner = TemplateMiner()
    first = miner.add_id("ciod: LOGIN chdir(/p/gb2/glosli/run_7) failed: No such file or directory")
    second = miner.add_id("ciod: LOGIN chdir(pwd) failed: No such file or directory")
    assert miner.resolve(first) == miner.resolve(second)
    # two plain words at one position stay two statements until more values are seen
    view = miner.add_id("Changing view acls to: yarn,curi")
    modify = miner.add_id("Changing modify acls to: yarn,curi")
    assert miner.resolve(view) != miner.resolve(modify)


def _java_lines(rng: random.Random) -> list[tuple[str, str]]:
    """(statement, line) pairs: one header shape, eight statements that differ in class and text."""
    statements = [
        (f"c.s.{name}Impl#{10 + i}", f"[{name.lower()}][{verb}]")
        for i, (name, verb) in enumerate(
            [
                ("Order", "Saved"),
                ("Travel", "Found"),
                ("Seat", "Sold"),
                ("Route", "Read"),
                ("Price", "Done"),
                ("User", "Login"),
                ("Food", "Bought"),
                ("Cancel", "Refund"),
            ]
        )
    ]
    lines = []
    for _ in range(200):
        where, text = rng.choice(statements)
        header = f"16:48:{rng.randrange(60):02d}.{rng.randrange(1000):03d} INFO {where}"
        lines.append((where, f"{header} TraceID: {rng.getrandbits(64):016x} SpanID: {rng.getrandbits(32):08x} {text}"))
    return lines


def test_statements_differing_in_several_words_are_not_merged_into_a_catch_all() -> None:
    lines = _java_lines(random.Random(5))
    miner = TemplateMiner()
    ids = [miner.add_id(line) for _, line in lines]
    groups: dict[str, set[str]] = {}
    for (where, _), tid in zip(lines, ids, strict=True):
        groups.setdefault(where, set()).add(miner.resolve(tid))
    assert all(len(found) == 1 for found in groups.values())  # one template per statement ...
    assert len(set().union(*groups.values())) == 8  # ... and no two statements share one


def test_compatible_tokens_need_a_variable_that_covers_the_other() -> None:
    from day2ai.analysis.logmining.merging import compatible

    assert compatible("tty=<*>", "tty=NODEVssh") and compatible("tty=NODEVssh", "tty=<*>")
    assert compatible("<*>", "anything") and compatible("same", "same")
    assert not compatible("tty=:<*>", "tty=NODEVssh")
    assert not compatible("opened", "closed")


def test_a_sibling_whose_variable_does_not_fit_is_not_swept_into_a_merge() -> None:
    miner = TemplateMiner()
    hosts = ["alpha", "beta", "gamma", "delta"]
    first = miner.add_id(f"auth failure tty=NODEVssh rhost={hosts[0]}.example.org")
    console = miner.add_id("auth failure tty=:0 rhost=")
    rest = [miner.add_id(f"auth failure tty=NODEVssh rhost={h}.example.org") for h in hosts[1:]]
    assert {miner.resolve(i) for i in rest} == {miner.resolve(first)}  # four host names: a variable
    assert miner.resolve(console) != miner.resolve(first)


def test_templates_of_other_classes_are_not_siblings_of_a_one_word_difference() -> None:
    # Two statements of one class differ in one word; three other classes have their own
    # statements. Their class tokens hold a variable too, but not one that covers ``A#<*>``.
    statements = [("B", "findContacts"), ("C", "queryForTravel"), ("D", "pay"), ("A", "collect"), ("A", "execute")]
    miner = TemplateMiner()
    ids = [
        miner.add_id(f"16:49:3{n} INFO e.c.{cls}#{30 + n} TraceID: 81e3{n}af SpanID: e828{n}a0 [{verb}][Id: {n}]")
        for n, (cls, verb) in enumerate(statements)
    ]
    assert len({miner.resolve(i) for i in ids}) == len(statements)


def test_a_word_that_fits_the_text_of_a_variable_run_joins_it_and_keeps_the_glue() -> None:
    for order in (1, -1):
        miner = TemplateMiner()
        lines = [
            "ciod: Error loading /home/draeger/test-nosleep: invalid or missing program image",
            "ciod: Error loading ./runtime_malloc: invalid or missing program image",
        ][::order]
        first, second = (miner.resolve(miner.add_id(line)) for line in lines)
        assert first == second
        assert miner.template(first) == "ciod: Error loading <*>: invalid or missing program image"
