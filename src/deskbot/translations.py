"""Keeps the Dutch and German catalogs in step with the texts in the code and templates.

`deskbot translations update` collects every marked text (`_()`, `N_()`, `ngettext()` in
Python and templates) and adds the new ones to each catalog, untranslated, dropping those no
longer used. `deskbot translations check` lists every text that is missing, untranslated,
fuzzy, stale, or whose `{placeholders}` differ from the English; the test suite runs it too.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from deskbot import i18n
from deskbot.templating import templates_dir

KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
TRANSLATED: tuple[i18n.Language, ...] = tuple(x for x in i18n.LANGUAGES if x != i18n.SOURCE)


@dataclass(frozen=True)
class Problem:
    language: str
    text: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}: {self.what}: {self.text!r}"


def source_dir() -> Path:
    return Path(str(resources.files("deskbot")))


def extract() -> Catalog:
    """Every marked text in deskbot's Python code and templates, in the order they appear."""
    catalog = Catalog(domain=i18n.DOMAIN, project="deskbot")
    sources: list[tuple[Path, str, dict[str, str]]] = [
        (source_dir(), "**.py", {}),
        (templates_dir(), "**.j2", {"trim_blocks": "True", "lstrip_blocks": "True"}),
    ]
    for root, pattern, options in sources:
        method = "python" if pattern.endswith(".py") else "jinja2.ext:babel_extract"
        found = extract_from_dir(
            str(root),
            method_map=[(pattern, method)],
            options_map={pattern: options},
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in found:
            catalog.add(
                message,
                None,
                [(f"{root.name}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def _read(language: i18n.Language) -> Catalog:
    with i18n.catalog_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=i18n.DOMAIN)


def _write(language: i18n.Language, catalog: Catalog) -> None:
    path = Path(str(i18n.catalog_path(language)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=100, include_lineno=False, ignore_obsolete=True)


def update(languages: Iterable[i18n.Language] = TRANSLATED) -> dict[str, int]:
    """Brings each catalog in step with the source; how many texts each still lacks."""
    template = extract()
    missing: dict[str, int] = {}
    for language in languages:
        path = Path(str(i18n.catalog_path(language)))
        catalog = _read(language) if path.exists() else Catalog(locale=language)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # the date of the catalog, not of this run
        _write(language, catalog)
        missing[language] = sum(1 for m in catalog if m.id and not _translated(m))
    return missing


def check(languages: Iterable[i18n.Language] = TRANSLATED) -> list[Problem]:
    """Everything that keeps a catalog from being complete and current."""
    template = extract()
    wanted = {m.id: m for m in template if m.id}
    problems: list[Problem] = []
    for language in languages:
        catalog = _read(language)
        have = {m.id: m for m in catalog if m.id}
        for key, source in wanted.items():
            entry = have.get(key)
            shown = _first(key)
            if entry is None:
                problems.append(Problem(language, shown, "missing"))
            elif entry.fuzzy:
                problems.append(Problem(language, shown, "fuzzy"))
            elif not _translated(entry):
                problems.append(Problem(language, shown, "untranslated"))
            elif _placeholders(entry.string) != _placeholders(source.id):
                problems.append(Problem(language, shown, "placeholders differ"))
        problems += [Problem(language, _first(k), "stale") for k in have if k not in wanted]
    return problems


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return all(strings)


def _first(key: object) -> str:
    return str(key[0] if isinstance(key, tuple | list) else key)


def _placeholders(text: object) -> frozenset[str]:
    texts = text if isinstance(text, tuple | list) else (text,)
    names: set[str] = set()
    for one in texts:
        for _literal, name, _spec, _conversion in string.Formatter().parse(str(one or "")):
            if name:
                names.add(name)
    # A plural's singular may say "one" where the plural says {n}.
    names.discard("n")
    return frozenset(names)
