"""The requests bench/edge.py's fuzzer sends: mutated JSON payloads and command forms, bodies
that are no form and no JSON, and signatures that are missing, wrong or stale.

Every choice comes from the `random.Random` passed in, so a seed gives the same requests.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from edge_support import AM, FORM, JSON, TRIAGE, interaction, signed
from tests.support.driver import SlackDriver
from tests.support.slack_standin import JsonDict

from deskbot.slack.ids import COMMAND

UNICODE = [
    "Zoë Ångström",
    "🙂" * 40,
    "\u202eevil\u202c",
    "\x00",
    "\ud800",
    "e\u0301" * 30,
    "\U0001d518\U0001d52b\U0001d526",  # Fraktur letters
    "中文字符",
    "مرحبا",
    "\ufeff",
    "<!channel> &amp; <@U0AM>",
    "payload",
]
DEEP = re.compile(r'"\\u0000deep(\d+)\\u0000"')
MUTATIONS = ("delete", "retype", "truncate", "unicode", "long", "deep")
LONG = (3_001, 50_000, 250_000)  # characters: over Slack's 3,000, far over, and huge


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def replaced(root: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    if not path:
        return {} if delete else new
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return root


def mutate_json(seed: Any, rng: random.Random) -> tuple[Any, list[str]]:
    """The seed with one to three changes anywhere in it: deleted keys, other types, cut or
    exotic or very long strings, deep nesting (a placeholder, expanded by `to_json`)."""
    value = copy.deepcopy(seed)
    done = []
    for _ in range(rng.randint(1, 3)):
        path, node = rng.choice(list(nodes(value)))
        what = rng.choice(MUTATIONS)
        done.append(what)
        if what == "delete":
            value = replaced(value, path, None, delete=True)
        elif what == "retype":
            new = rng.choice([0, -1, 2**64, 1.5, True, None, "", "1", [], {}, [node], {"x": node}])
            value = replaced(value, path, new)
        elif what == "truncate":
            if isinstance(node, str | list):
                value = replaced(value, path, node[: rng.randrange(len(node) + 1)])
            elif isinstance(node, dict):
                kept = dict(list(node.items())[: len(node) // 2])
                value = replaced(value, path, kept)
        elif what == "unicode":
            value = replaced(value, path, rng.choice(UNICODE))
        elif what == "long":
            value = replaced(value, path, "x" * rng.choice(LONG))
        else:
            value = replaced(value, path, f"\x00deep{rng.choice([50, 900, 5_000])}\x00")
    return value, done


def to_json(value: Any, rng: random.Random) -> bytes:
    dumped = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    dumped = DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), dumped)
    body = dumped.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        body = body[: rng.randrange(len(body) + 1)]  # cut anywhere: no longer JSON
    return body


def mutate_form(seed: JsonDict, rng: random.Random) -> tuple[bytes, list[str]]:
    """A slash command's form with changed, missing, doubled, exotic or broken fields."""
    pairs = [(str(k), str(v)) for k, v in seed.items()]
    done = []
    raw: list[str] = []
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(pairs)) if pairs else 0
        what = rng.choice(["delete", "empty", "long", "unicode", "payload", "double", "broken"])
        done.append(what)
        if not pairs:
            break
        key, value = pairs[index]
        if what == "delete":
            del pairs[index]
        elif what == "empty":
            pairs[index] = (key, "")
        elif what == "long":
            pairs[index] = (key, "a" * rng.choice(LONG))
        elif what == "unicode":
            pairs[index] = (key, rng.choice(UNICODE))
        elif what == "payload":
            pairs.append(("payload", rng.choice(["1", "{", "[]", "null", '{"type": 1}', value])))
        elif what == "double":
            pairs.append((key, rng.choice(UNICODE)))
        else:
            raw.append(rng.choice(["%ZZ", "%FF%FE", "text=%", "=", "&&", "payload"]))
    encoded = [
        f"{quote_plus(k)}={quote_plus(v, encoding='utf-8', errors='surrogatepass')}"
        for k, v in pairs
    ]
    return "&".join(encoded + raw).encode(), done


def malformed_bodies() -> dict[str, tuple[bytes, str]]:
    deep = "[" * 5_000 + "]" * 5_000
    return {
        "payload=%7B": (b"payload=%7B", FORM),
        "{": (b"{", FORM),
        "{ (as JSON)": (b"{", JSON),
        "payload=1": (b"payload=1", FORM),
        "invalid UTF-8": (b"command=%2Fdesk&text=\xff\xfe\xfa", FORM),
        "invalid UTF-8 JSON": (b'{"type": "\xff\xfe"}', JSON),
        "payload=%FF%FE": (b"payload=%FF%FE", FORM),
        "5,000-deep JSON": (deep.encode(), JSON),
        "5,000-deep payload": (b"payload=" + quote_plus(deep).encode(), FORM),
        "empty body": (b"", FORM),
        "huge body (2 MiB)": (b"command=%2Fdesk&text=" + b"a" * (2 << 20), FORM),
    }


def signatures(
    driver: SlackDriver, forged: SlackDriver
) -> dict[str, Callable[[bytes], dict[str, str]]]:
    """Ways a request can come without a valid, fresh signature."""
    now = int(time.time())
    return {
        "no signature": lambda body: {},
        "wrong secret": lambda body: forged.sign(body),
        "stale (6 min)": lambda body: driver.sign(body, timestamp=now - 360),
        "future (6 min)": lambda body: driver.sign(body, timestamp=now + 360),
        "garbage signature": lambda body: {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": "v0=zz",
        },
        "timestamp not a number": lambda body: {
            **driver.sign(body),
            "X-Slack-Request-Timestamp": "soon",
        },
        "signature only": lambda body: {
            "X-Slack-Signature": driver.sign(body)["X-Slack-Signature"]
        },
    }


# -- the requests -------------------------------------------------------------------------------


@dataclass
class Probe:
    kind: str  # the table's row
    label: str  # the body or the mutations, for the breakdown
    body: bytes
    headers: dict[str, str]
    way: str = "signed"  # how it was (not) signed


REFUSED = "unsigned, forged or stale"
MALFORMED = "signed, malformed body"
MUTATED = {  # kind: requests in a full run (a tenth with --quick)
    "command": 800,
    "shortcut": 300,
    "block_actions": 1100,
    "view_submission": 1100,
    "view_closed": 150,
    "event": 550,
    "block_suggestion": 197,
}
SENT = {REFUSED: 1200, MALFORMED: 600}


def probes(
    seeds: dict[str, list[JsonDict]],
    driver: SlackDriver,
    forged: SlackDriver,
    seed: int,
    scale: float,
) -> list[Probe]:
    """6,000 requests (times `scale`), the same ones for the same seed and seeds."""
    rng = random.Random(seed)
    bad = malformed_bodies()
    ways = signatures(driver, forged)
    valid = [
        (urlencode(seeds["command"][0]).encode(), FORM, "valid command"),
        (*interaction(seeds["block_actions"][0]), "valid interaction"),
        (json.dumps(seeds["event"][0]).encode(), JSON, "valid event"),
    ]
    bodies = [(body, kind, name) for name, (body, kind) in bad.items()] + valid
    made: list[Probe] = []
    for _ in range(round(SENT[REFUSED] * scale)):
        body, content_type, name = rng.choice(bodies)
        way = rng.choice(sorted(ways))
        headers = {"Content-Type": content_type, **ways[way](body)}
        made.append(Probe(REFUSED, name, body, headers, way))
    names = sorted(bad)
    for index in range(round(SENT[MALFORMED] * scale)):
        name = names[index % len(names)]
        body, content_type = bad[name]
        made.append(Probe(MALFORMED, name, body, signed(driver, body, content_type)))
    for kind, count in MUTATED.items():
        for _ in range(round(count * scale)):
            chosen = rng.choice(seeds[kind])
            if kind == "command":
                body, done = mutate_form(chosen, rng)
                content_type = FORM
            else:
                value, done = mutate_json(chosen, rng)
                body = to_json(value, rng)
                content_type = JSON
                if kind != "event":
                    body = b"payload=" + quote_plus(body).encode()
                    content_type = FORM
            label = "+".join(sorted(set(done)))
            made.append(
                Probe(f"signed {kind} (mutated)", label, body, signed(driver, body, content_type))
            )
    for words, channel in (
        ("find payload", TRIAGE),
        ("email payload@example.org", TRIAGE),
        ("whoami", "C0PAYLOAD"),
    ):
        fields = driver.payloads.command(AM, COMMAND, words, TRIAGE).payload
        if channel != TRIAGE:
            fields["channel_name"] = "payload-team"
        body = urlencode(fields).encode()
        made.append(
            Probe("signed command naming 'payload'", words, body, signed(driver, body, FORM))
        )
    return made
