"""Tests of the fast paths of the miner: per-token masking, shape caches, variable runs."""

from __future__ import annotations

import json
import random

import pytest

from day2ai.analysis.logmining import MinerConfig, TemplateMiner
from day2ai.analysis.logmining.fastmask import TokenMasker, shape_of
from day2ai.analysis.logmining.masking import Masker, render_template

_SHAPES = [
    "Receiving block blk_{big} src: /{ip}:{port} dest: /{ip}:50010",
    "took {n}ms for {word} at {date} on node-{n}",
    "stored {f} KB in /var/lib/{word}/{n}.db, {n} items",
    "request {uuid} from {ip} user={word} status={n}",
    "addr 0x{hex} mac {mac} core.{n} job_{n}_{n}",
    "session {word} opened (uid={n}) via SOCKS5 eth{d} at {clock}",
    "fetch https://{word}.example.com/{word}?id={n} -> {n} bytes",
    "{word}.{word}.com:{port} close, {n} bytes ({f} KB) sent, lifetime {clock}",
]


def _line(rng: random.Random, shape: str) -> str:
    def word() -> str:
        return "".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7)))

    return shape.format(
        big=rng.randrange(-(10**18), 10**18),
        ip=".".join(str(rng.randrange(256)) for _ in range(4)),
        port=rng.randrange(65536),
        n=rng.randrange(10 ** rng.randint(1, 6)),
        d=rng.randrange(10),
        f=round(rng.random() * 1000, rng.randint(1, 2)),
        word=word(),
        date=f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 1{rng.randint(0, 9)}:0{rng.randint(0, 9)}:33",
        uuid="123e4567-e89b-12d3-a456-4266141740" + f"{rng.randrange(100):02d}",
        hex=f"{rng.randrange(16**8):08x}",
        mac=":".join(f"{rng.randrange(256):02X}" for _ in range(6)),
        clock=f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
    )


def test_token_masking_agrees_with_the_whole_line_rules() -> None:
    rng = random.Random(11)
    reference = Masker()
    fast = TokenMasker(reference)
    for _ in range(600):
        line = _line(rng, rng.choice(_SHAPES))
        expected = render_template(reference.mask(line).split())
        assert render_template(fast.mask_tokens(line)) == expected, line


def test_shape_ignores_digit_values_but_keeps_hex_prefixes() -> None:
    assert shape_of("blk_123 took 45ms") == shape_of("blk_987 took 10ms")
    assert shape_of("v 0x1f") != shape_of("v 5x1f")
    assert shape_of("caf\u00e9 12") == "caf\u00e9 00".encode()


def test_words_kept_with_digits_are_not_confused_by_the_shape_cache() -> None:
    miner = TemplateMiner()
    first = miner.add("link eth0 up")
    assert miner.add("link eth0 up").template_id == first.template_id
    other = miner.add("link eth1 up")
    assert other.template_id != first.template_id
    assert other.template == "link eth1 up"


def test_repeated_shapes_reuse_the_template_and_count() -> None:
    miner = TemplateMiner()
    ids = miner.add_many([f"job {i} finished in {i * 3} ms" for i in range(100, 200)])
    assert len(set(ids)) == 1
    info = miner.templates()[0]
    assert info.count == 100 and info.template == "job <*> finished in <*> ms"


def test_variable_runs_group_values_written_with_different_token_counts() -> None:
    miner = TemplateMiner()
    lines = [
        "host close, 0 bytes sent, lifetime 00:01",
        "host close, 1190 bytes (1.16 KB) sent, lifetime <1 sec",
        "host close, 403 bytes sent, lifetime <1 sec",
        "host close, 2048 bytes (2.00 KB) sent, lifetime 00:02",
    ]
    ids = {miner.resolve(miner.add(line).template_id) for line in lines}
    assert len(ids) == 1
    assert miner.template(ids.pop()) == "host close, <*> sent, lifetime <*>"


def test_a_consistent_unit_stays_in_the_template() -> None:
    miner = TemplateMiner()
    for i in range(5):
        match = miner.add(f"retry {i} after {i * 7 + 1} seconds")
    assert match.template == "retry <*> after <*> seconds"


def test_generalised_words_next_to_a_variable_join_its_run() -> None:
    miner = TemplateMiner()
    hosts = ["()", "(alpha.example.net)", "(beta.example.org)", "(gamma.example.com)", "(delta.example.io)"]
    ids = set()
    for i in range(30):
        line = f"connection from 10.0.0.{i} (h-{i}.example.net) at 12:00:{i:02d}"
        ids.add(miner.add(line).template_id)
    for i, host in enumerate(hosts):
        ids.add(miner.add(f"connection from 10.1.0.{i} {host} at 13:00:{i:02d}").template_id)
    assert len({miner.resolve(t) for t in ids}) == 1
    assert miner.templates()[0].template == "connection from <*> (<*>) at <*>"


def test_match_uses_the_skeleton() -> None:
    miner = TemplateMiner()
    tid = miner.add("sent 5 bytes (5 B) to peer").template_id
    assert miner.match("sent 7 bytes (7 B) to peer") == tid
    assert miner.match("sent 7 bytes to peer") == tid  # same skeleton, fewer tokens
    assert miner.match("sent 7 bytes to a peer") is None


def test_state_without_runs_from_older_versions_loads() -> None:
    doc = {
        "version": 1,
        "config": {},
        "next_id": 2,
        "lines": 3,
        "templates": [
            {
                "number": 1,
                "tokens": ["sent", "<*>", "(<*>)", "to", "peer"],
                "open": [False, False, True, False, False],
                "count": 3,
                "first_line": 1,
                "last_line": 3,
            }
        ],
    }
    miner = TemplateMiner.from_json(json.dumps(doc))
    assert miner.template("T1") == "sent <*> to peer"
    assert miner.add("sent 9 (12) to peer").template_id == "T1"
    assert json.loads(miner.to_json())["templates"][0]["runs"] == [None, None, None, None]


@pytest.mark.parametrize(
    "line",
    ["a\u00a0b 12 c", "bad \udcff byte 12", "tab\tsep 3\x1cx", "", "   ", "<*> already masked 5"],
)
def test_odd_text_is_handled(line: str) -> None:
    miner = TemplateMiner()
    first = miner.add(line)
    assert miner.add(line).template_id == first.template_id
    assert miner.mask(line) == " ".join(TokenMasker(Masker()).mask_tokens(line))


def test_user_rules_take_the_whole_line_path() -> None:
    from day2ai.analysis.logmining import MaskingConfig, MaskingRule

    config = MinerConfig(masking=MaskingConfig(extra=(MaskingRule(name="kv", pattern=r"user \w+"),)))
    miner = TemplateMiner(config)
    assert miner.mask("login user bob ok 3") == "login <*> ok <*>"
    ids = {miner.add(f"login user u{i} ok {i}").template_id for i in range(5)}
    assert len(ids) == 1


# Pieces that stress the order of the rules: values right before a unit (``10.0.0.1:80 B``: the
# endpoint rule comes before ``size``), dates and clocks, Unicode digits, hex next to dates.
_PIECES = [
    "Jan",
    "Mon",
    "12:34:56",
    "2024-01-02",
    "Jun 25 19:25:30 2005",
    "KB",
    "B",
    "ms",
    "0x1f",
    "eth0",
    "SOCKS5",
    "10.0.0.1:80",
    "a.b.com:443",
    "http://x.y/z",
    "1190 bytes (1.16 KB)",
    "123e4567-e89b-12d3-a456-426614174000",
    "de:ad:be:ef:00:11",
    "5",
    "1.5",
    "/var/log",
    "blk_-12",
    "node-7",
    "task_0001_m_2",
    "\u0661\u0662:\u0663\u0664",
    "caf\u00e9",
]
_CHARS = "0123456789" * 3 + "abcdefxXBKMGiTP_-.:/=,;()[]"


def _random_line(rng: random.Random) -> str:
    parts = [
        rng.choice(_PIECES) if rng.random() < 0.4 else "".join(rng.choice(_CHARS) for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(1, 7))
    ]
    return rng.choice([" ", " ", "  ", "\t"]).join(parts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_token_masking_agrees_with_the_whole_line_rules_on_adversarial_lines(seed: int) -> None:
    rng = random.Random(seed)
    reference = Masker()
    fast = TokenMasker(reference)
    for _ in range(1500):
        line = _random_line(rng)
        expected = render_template(reference.mask(line).split())
        assert render_template(fast.mask_tokens(line)) == expected, line


def test_word_tokens_with_digits_agree_with_the_rules() -> None:
    rng = random.Random(5)
    reference = Masker()
    fast = TokenMasker(reference)
    for _ in range(2000):
        token = "".join(rng.choice("abcxyzBKMS_0123456789") for _ in range(rng.randint(1, 9)))
        assert fast.mask_tokens(token) == reference.mask(token).split(), token


def test_eviction_drops_the_least_recently_seen_template() -> None:
    miner = TemplateMiner(MinerConfig(max_templates=3))
    first = miner.add("alpha event happened").template_id
    second = miner.add("beta thing occurred now").template_id
    miner.add("gamma stuff went wrong here")
    for _ in range(3):
        miner.add("alpha event happened")  # the oldest template is seen again
    miner.add("delta words that are new")
    ids = {info.template_id for info in miner.templates()}
    assert first in ids and second not in ids and miner.evicted == 1
    clone = TemplateMiner.from_json(miner.to_json())  # recency survives a round trip
    clone.add("gamma stuff went wrong here")
    clone.add("epsilon completely different message text")
    assert first not in {info.template_id for info in clone.templates()}


def test_several_datetimes_in_long_lines_agree_with_the_whole_line_rules() -> None:
    rng = random.Random(23)
    reference = Masker()
    fast = TokenMasker(reference)
    stamps = [
        lambda: f"2023-01-{rng.randint(10, 28)}T0{rng.randint(0, 9)}:48:42.{rng.randrange(10**9)}Z",
        lambda: f"2023-01-{rng.randint(10, 28)} {rng.randint(10, 23)}:48:42",
        lambda: f"Mon, Jan {rng.randint(1, 28)}, {rng.randint(0, 23):02d}:00:00 2024",
        lambda: f"Jan  {rng.randint(1, 9)} 1{rng.randint(0, 9)}:02:03",
        lambda: f"{rng.randint(10, 23)}:48:42.{rng.randrange(1000):03d}",
    ]
    words = ["INFO", "at", "x=1", "Sat", "Feb", "12", "00:00:01", "a-b", f"{rng.getrandbits(64):016x}", "5 KB"]
    for _ in range(800):
        parts = [rng.choice(stamps)() if rng.random() < 0.3 else rng.choice(words) for _ in range(rng.randint(1, 14))]
        line = " ".join(parts)
        expected = render_template(reference.mask(line).split())
        assert render_template(fast.mask_tokens(line)) == expected, line
