"""What one user may see: their departments (scope) and their clearance (密级).

The one visibility rule of the archive. Search, document fetches, downloads, thumbnails,
client pages and the completeness report all ask a :class:`Scope`, as SQL (for queries that
must count and page correctly) or as a test on a loaded row (for a fetch by ID). What a
scope does not cover is invisible, never "forbidden": a user cannot learn that another
department's client exists.

Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, false, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from papervault.config.errors import NotFound
from papervault.index.catalog.models import Client, Document, PaperRecord


class Hidden(NotFound):
    """Outside the user's scope or clearance: answered exactly as "not found" (so nobody
    learns it exists), and the attempt is audited where the error is mapped (the CLI's
    and the web app's one handler). ``target``: what the audit entry names."""


@dataclass(frozen=True)
class Scope:
    """A user's view of the archive.

    ``departments`` None: every department, and documents with none yet (only unscoped
    users see those, so that someone classifies them). ``levels`` None: every 密级 (top
    clearance); else the level names at or below the user's clearance.
    """

    departments: frozenset[str] | None
    levels: frozenset[str] | None
    default_level: str
    type_levels: tuple[tuple[str, str], ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.departments is None and self.levels is None

    def departments_only(self) -> Scope:
        """The same departments at every 密级 (for tallies that show no content)."""
        return Scope(self.departments, None, self.default_level, self.type_levels)

    def describe(self) -> dict[str, object]:
        """The scope for an audit entry."""
        return {"departments": sorted(self.departments) if self.departments is not None
                else "*", "levels": sorted(self.levels) if self.levels is not None else "*"}

    # -- a loaded row ---------------------------------------------------------------------

    def level_of(self, doc: Document) -> str:
        """The document's 密级: set by hand or record, else its type's, else the default."""
        if doc.sensitivity:
            return doc.sensitivity
        return dict(self.type_levels).get(doc.doc_type or "", self.default_level)

    def sees_level(self, level: str | None) -> bool:
        return self.levels is None or (level or self.default_level) in self.levels

    def sees_department(self, department: str | None) -> bool:
        return self.departments is None or (department or "") in self.departments

    def sees_document(self, doc: Document) -> bool:
        return self.sees_department(doc.department) and self.sees_level(self.level_of(doc))

    def sees_record(self, record: PaperRecord, client: Client | None = None) -> bool:
        dep = record.department or (client.department if client else None)
        return self.sees_department(dep) and self.sees_level(record.sensitivity)

    def sees_client(self, client: Client) -> bool:
        return self.sees_department(client.department)

    # -- SQL ------------------------------------------------------------------------------

    def document_sql(self, alias: str = "d", unindexed: bool = False,
                     doc_type: str | None = None) -> tuple[list[str], dict[str, object]]:
        """WHERE clauses over ``document AS alias`` (raw SQL, for search), and their
        parameters (names prefixed ``scope_``). ``unindexed`` (SQLite): the department
        term must not pick the index, so a narrower filter's index (one month's dates)
        drives the plan; a department is a fifth of the archive; and the clearance stays
        one CASE term (:meth:`_level_case`, not :meth:`_level_sql`). ``doc_type``: the query
        asks for this type only, so its level is known here (PostgreSQL): a type above
        the user's clearance leaves only documents classified lower by hand, and the
        planner sees that (it walked a department's documents of a hidden type for 0.7-0.9 s at 1M,
        to find none)."""
        clauses: list[str] = []
        params: dict[str, object] = {}
        if self.departments is not None:
            column = f"{'+' if unindexed else ''}{alias}.department"
            clauses.append(_in(column, "scope_dep", self.departments, params))
        if self.levels is not None:
            # SQLite keeps one opaque term: spelt out, its planner ORed the type index into
            # a month's plan (23 -> 267 ms for a scoped officer at 100k documents).
            clauses.append(self._level_case(alias, self.levels, params) if unindexed
                           else self._level_sql(alias, self.levels, params, doc_type))
        return clauses, params

    def _level_case(self, alias: str, levels: frozenset[str],
                    params: dict[str, object]) -> str:
        """The clearance rule as written: ``COALESCE(sensitivity, <the type's level>)``."""
        whens = ""
        for i, (type_name, level) in enumerate(self.type_levels):
            params[f"scope_t{i}"], params[f"scope_tl{i}"] = type_name, level
            whens += f" WHEN :scope_t{i} THEN :scope_tl{i}"
        params["scope_default"] = self.default_level
        by_type = (f"CASE {alias}.doc_type{whens} ELSE :scope_default END" if whens
                   else ":scope_default")
        return _in(f"COALESCE({alias}.sensitivity, {by_type})", "scope_lv", levels, params)

    def _level_sql(self, alias: str, levels: frozenset[str], params: dict[str, object],
                   doc_type: str | None) -> str:
        """The clearance rule, ``COALESCE(sensitivity, <the type's level>) IN levels``,
        spelt out over the plain columns: PostgreSQL has no statistics on that CASE
        expression and guessed it at 0.5 % of the archive, so it walked an officer's whole
        department (140k documents) to page the 60 hits of a rare word (1.4 s at 1M). On
        ``sensitivity`` and ``doc_type`` themselves its estimates are close."""
        if not levels:
            return "1 = 0"
        seen = _in(f"{alias}.sensitivity", "scope_lv", levels, params)
        if doc_type is not None:
            cleared = dict(self.type_levels).get(doc_type, self.default_level) in levels
            return f"({seen} OR {alias}.sensitivity IS NULL)" if cleared else seen
        hidden = frozenset(t for t, lv in self.type_levels if lv not in levels)
        shown = frozenset(t for t, lv in self.type_levels if lv in levels)
        if self.default_level in levels:  # every type but the hidden ones (untyped too)
            by_type = (f"({alias}.doc_type IS NULL OR NOT "
                       f"{_in(f'{alias}.doc_type', 'scope_th', hidden, params)})"
                       if hidden else "1 = 1")
        else:  # only the listed types cleared for this user
            by_type = _in(f"{alias}.doc_type", "scope_ts", shown, params)
        return f"({seen} OR ({alias}.sensitivity IS NULL AND {by_type}))"

    def document_where(self) -> ColumnElement[bool]:
        """The same rule as :meth:`document_sql`, for ORM selects of :class:`Document`."""
        parts: list[ColumnElement[bool]] = []
        if self.departments is not None:
            parts.append(_col_in(Document.department, self.departments))
        if self.levels is not None:
            by_type: Any = literal(self.default_level)
            if self.type_levels:
                by_type = case(dict(self.type_levels), value=Document.doc_type,
                               else_=literal(self.default_level))
            parts.append(_col_in(func.coalesce(Document.sensitivity, by_type), self.levels))
        return and_(true(), *parts)

    def record_where(self) -> ColumnElement[bool]:
        """Paper records the user may see (department: the record's, else its client's)."""
        parts: list[ColumnElement[bool]] = []
        if self.departments is not None:
            owner = (select(col(Client.department))
                     .where(col(Client.client_id) == col(PaperRecord.client_id))
                     .scalar_subquery())
            parts.append(_col_in(func.coalesce(PaperRecord.department, owner),
                                 self.departments))
        if self.levels is not None:
            parts.append(_col_in(func.coalesce(PaperRecord.sensitivity,
                                               literal(self.default_level)), self.levels))
        return and_(true(), *parts)

    def client_where(self) -> ColumnElement[bool]:
        if self.departments is None:
            return true()
        return _col_in(Client.department, self.departments)


def make_scope(departments: Iterable[str], clearance: str | None, levels: Sequence[str],
               default_level: str, type_levels: Mapping[str, str]) -> Scope:
    """A scope from a user's departments (none: unscoped) and clearance (a level name;
    None or unknown: the lowest level, so a typo never opens more)."""
    deps = frozenset(d.strip() for d in departments if d.strip())
    rank = levels.index(clearance) if clearance in levels else 0
    allowed = None if rank == len(levels) - 1 else frozenset(levels[: rank + 1])
    return Scope(departments=deps or None, levels=allowed, default_level=default_level,
                 type_levels=tuple(sorted(type_levels.items())))


def highest(levels: Sequence[str], names: Iterable[str | None]) -> str | None:
    """The highest of ``names`` in the order of ``levels`` (None when none is known)."""
    known = [levels.index(n) for n in names if n in levels]
    return levels[max(known)] if known else None


def _in(expr: str, prefix: str, values: frozenset[str], params: dict[str, object]) -> str:
    if not values:
        return "1 = 0"
    names = []
    for i, v in enumerate(sorted(values)):
        params[f"{prefix}{i}"] = v
        names.append(f":{prefix}{i}")
    return f"{expr} IN ({', '.join(names)})"


def _col_in(expr: Any, values: frozenset[str]) -> ColumnElement[bool]:
    return expr.in_(sorted(values)) if values else false()



# The archive itself (relinking, the coverage audit, tests): every department and level.
EVERYTHING = Scope(departments=None, levels=None, default_level="")
