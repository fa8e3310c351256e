"""The mapping table as typed, checked data: ``biology_map()`` builds it from ``mapping_table``.

Every row (``BioLink``) names the works it rests on (``sources``, at least one). ``after_primer`` marks
a row taken from the Irie & Gershman (2025) primer; the page may attribute a row to the primer only when
it is marked, and ``primer_note`` says how the primer was (not) used.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import mapping_table as table

__all__ = ["STATUSES", "BioLink", "BiologyMap", "OpenQuestion", "Source", "biology_map"]

STATUSES: tuple[tuple[str, str], ...] = (
    ("established", "The biological process is shown by experiments and does the job described; treating it as "
                    "this FWP quantity is a simplification, not a discovery."),
    ("hypothesis", "A proposed correspondence: plausible and useful for thinking, but not yet tested directly."),
)


@dataclass(frozen=True)
class Source:
    """A published work a row rests on."""

    key: str  # e.g. "oja1982"
    short: str  # e.g. "Oja 1982", for tables
    citation: str  # authors, year, title, venue


@dataclass(frozen=True)
class BioLink:
    """One row of the mapping table: an FWP quantity beside its proposed biological counterpart."""

    quantity: str  # the FWP quantity, in words
    symbol: str  # its symbol in the equations (plain text)
    counterpart: str  # the proposed biological counterpart
    status: str  # "established" or "hypothesis" (see STATUSES)
    explanation: str  # why the link is drawn, what it rests on, and where it is weak
    simulation: str | None  # the function in fwp_core.biology that shows it, if any
    sources: tuple[Source, ...]  # what the row rests on (at least one)
    after_primer: bool = False  # True only where the row is taken from the Irie & Gershman (2025) primer

    @property
    def references(self) -> tuple[str, ...]:
        """The full citations of ``sources``."""
        return tuple(s.citation for s in self.sources)


@dataclass(frozen=True)
class OpenQuestion:
    """A question the FWP–biology mapping raises but does not answer."""

    question: str
    why_it_matters: str
    candidate_answers: str


@dataclass(frozen=True)
class BiologyMap:
    """The mapping table and the open questions, as data a page can lay out."""

    links: tuple[BioLink, ...]
    open_questions: tuple[OpenQuestion, ...]
    statuses: tuple[tuple[str, str], ...]  # (status, what it means)
    primer: Source  # the Irie & Gershman (2025) primer: further reading
    primer_note: str  # how the primer was used for the table (rows marked after_primer, or none)


def _source(key: str) -> Source:
    if key not in table.SOURCES:
        raise KeyError(f"mapping table cites unknown source {key!r}")
    short, citation = table.SOURCES[key]
    return Source(key, short, citation)


def _links() -> tuple[BioLink, ...]:
    allowed = {s for s, _ in STATUSES}
    links = []
    for row in table.LINKS:
        if not row["sources"]:
            raise ValueError(f"mapping row {row['quantity']!r} cites no source")
        if row["status"] not in allowed:
            raise ValueError(f"mapping row {row['quantity']!r} has unknown status {row['status']!r}")
        links.append(BioLink(
            quantity=row["quantity"], symbol=row["symbol"], counterpart=row["counterpart"], status=row["status"],
            explanation=row["explanation"], simulation=row["simulation"],
            sources=tuple(_source(k) for k in row["sources"]), after_primer=bool(row.get("after_primer", False)),
        ))
    return tuple(links)


_MAP = BiologyMap(
    links=_links(),
    open_questions=tuple(OpenQuestion(**q) for q in table.OPEN_QUESTIONS),
    statuses=STATUSES,
    primer=Source("irie2025", *table.PRIMER),
    primer_note=table.PRIMER_NOTE,
)
if any(link.after_primer for link in _MAP.links) and "no row is attributed" in _MAP.primer_note:
    raise ValueError("PRIMER_NOTE says no row follows the primer, but a row is marked after_primer")


def biology_map() -> BiologyMap:
    """The FWP ↔ biology mapping table and the open questions, with what each status means.

    Each ``BioLink`` names an FWP quantity, its symbol, its proposed counterpart, a ``status``
    (``established`` or ``hypothesis``, explained in ``statuses``), an explanation, the simulation in
    ``fwp_core.biology`` that shows it (or None) and the ``sources`` it rests on. The rows are built from
    those sources, not from the Irie & Gershman (2025) primer (see ``primer_note``).
    """
    return _MAP
