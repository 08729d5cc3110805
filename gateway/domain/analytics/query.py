"""RunQuery: one read-only SELECT over the allow-listed analytics tables.

What a query may touch is decided from ClickHouse's own parser, never from
the SQL text:

1. `formatQuery({sql:String})` parses the caller's text (bound as a value,
   so nothing of it runs) and returns the canonical statement; more than one
   statement, or none, fails here. Only this canonical text is explained and
   run, so what is checked is what executes.
2. `EXPLAIN AST` of it: the statement must be a SELECT (or WITH ... SELECT,
   UNION, INTERSECT, EXCEPT) without SETTINGS, FORMAT or INTO OUTFILE.
3. `EXPLAIN QUERY TREE run_passes = 0` (the analyzer's tree before it
   resolves anything, so nothing is read or executed): every table it names
   must be a CTE in scope or one of the policy's tables in our database,
   every table function must be on the allow-list below and no function may
   reach outside those tables (files, dictionaries, Join tables).

Both dumps print identifiers raw, so a quoted identifier could forge a line
of the dump; a query whose canonical form needs backquotes is refused, which
leaves every identifier and alias a plain word.

Then the query runs with readonly = 1, max_execution_time and
max_result_rows (result_overflow_mode = 'throw': more rows fail, never a
silent cut), wrapped as `SELECT * FROM (...)` so the limits bind the whole
statement (a UNION's trailing SETTINGS would bind only its last SELECT).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from gateway.errors import (
    DatagwError,
    DeadlineExceeded,
    FieldViolation,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    Violations,
)
from gateway.policy.model import QueryPolicy
from gateway.storage.clickhouse import run_query as statements
from gateway.storage.clickhouse.store import (
    AnalyticsStore,
    AnalyticsStoreError,
    AnalyticsUnavailable,
    ParamText,
    QueryResult,
    placeholder_names,
)

MAX_PARAMETERS = 100
MAX_PARAMETER_CHARS = 65_536
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")

# Pure generators that read nothing, e.g. a calendar to join against.
ALLOWED_TABLE_FUNCTIONS = frozenset({"numbers"})
# Scalar functions that read outside the allowed tables (files, dictionaries,
# Join tables, other tables' metadata) or hold the engine without working.
DENIED_FUNCTIONS = frozenset({"file", "catboostevaluate", "hascolumnintable", "sleep",
                              "sleepeachrow", "getserversetting"})
DENIED_FUNCTION_PREFIXES = ("dict", "joinget", "filesystem")
# Scalar functions that describe the server rather than the data: its
# version and build, host and ports, settings, users and roles. A caller of
# an analytics API has no need of them, and they help whoever probes it.
SERVER_FUNCTIONS = frozenset({
    "version", "revision", "buildid", "hostname", "fqdn", "uptime", "serveruuid", "tcpport",
    "getserverport", "displayname", "getsetting", "getsettingordefault", "getmergetreesetting",
    "getmacro", "getoskernelversion", "currentuser", "currentprofiles", "currentroles",
    "enabledprofiles", "enabledroles", "defaultprofiles", "defaultroles",
    "zookeepersessionuptime", "initialqueryid", "queryid", "hasthreadfuzzer"})
# `x IN t`: an identifier on the right of IN names a table.
IN_FUNCTIONS = frozenset({"in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn",
                          "globalNullIn", "globalNotNullIn"})
# ClickHouse's one-row table. The query tree of a SELECT without FROM reads
# it (its JOIN TREE is this identifier, as if the caller had named it), so
# the tree alone cannot tell the two apart: the AST, where only a name the
# caller wrote appears, decides (names_one_row_table). A caller's query
# naming it is refused like every other system table.
ONE_ROW_TABLE = "system.one"
# The AST nodes that carry a name as written: a table in FROM or JOIN, and
# any other identifier (the right side of IN among them).
_AST_NAMES = frozenset({"TableIdentifier", "Identifier"})

_SELECTS = frozenset({"SelectWithUnionQuery", "SelectIntersectExceptQuery", "SelectQuery"})
# Statements that read but are not a SELECT (the rest write or change state).
_READING_STATEMENTS = ("Show", "Describe", "Explain", "Exists", "Use", "Check")
# Sections of the query tree whose IDENTIFIER children are tables.
_TABLE_SECTIONS = frozenset({"JOIN TREE", "LEFT TABLE EXPRESSION", "RIGHT TABLE EXPRESSION",
                             "TABLE EXPRESSION"})
_ATTRIBUTE = re.compile(r"(\w+): ([^,]*)")
# A placeholder of an integer type; ClickHouse wraps a value out of its
# range (UInt8 '300' reads as 44) instead of refusing it.
_INTEGER_PLACEHOLDER = re.compile(r"\{(\w+)\s*:\s*(U?)Int(8|16|32|64|128|256)\s*\}")
_WHOLE_NUMBER = re.compile(r"^[+-]?[0-9]+\Z")
_MISSING_PARAMETER = re.compile(r"Substitution `([^`]+)` is not set")
_BAD_PARAMETER = re.compile(r"for query parameter '([^']+)'")
_EXCEPTION_PREFIX = re.compile(r"^Code: \d+\. DB::Exception: ")
_TRAILING_CODE_NAME = re.compile(r"\s*\([A-Z_]+\)\s*$")

# ClickHouse error codes this module tells apart.
SYNTAX_ERROR = 62
TIMEOUT_EXCEEDED = 159
READONLY = 164
TOO_MANY_SIMULTANEOUS_QUERIES = 202
MEMORY_LIMIT_EXCEEDED = 241
TOO_MANY_ROWS_OR_BYTES = 396
UNKNOWN_QUERY_PARAMETER = 456


class QueryRejected(InvalidArgument):
    """INVALID_ARGUMENT with a reason of its own (QUERY_NOT_READ_ONLY,
    TABLE_NOT_ALLOWED ...) and the `sql` field at fault."""

    def __init__(self, reason: str, description: str, **metadata: str) -> None:
        super().__init__((FieldViolation("sql", description),), reason=reason,
                         message=description, metadata=metadata)


@dataclass(frozen=True)
class QueryRequest:
    sql: str
    parameters: Mapping[str, str]
    max_rows: int  # 0: the policy's
    timeout_s: float | None  # None: the policy's


@dataclass
class _Node:
    label: str
    attributes: dict[str, str]
    children: list[_Node] = field(default_factory=list)

    def child(self, label: str) -> _Node | None:
        return next((c for c in self.children if c.label == label), None)


def _parse_dump(lines: list[str], indent: int) -> _Node:
    """The tree of an EXPLAIN AST (indent 1) or QUERY TREE (indent 2) dump."""
    root = _Node("", {})
    stack: list[tuple[int, _Node]] = [(-1, root)]
    for line in lines:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // indent
        text = line.strip()
        label, _, rest = text.partition(" id: ") if " id: " in text else (text, "", "")
        node = _Node(label, dict(_ATTRIBUTE.findall("id: " + rest)) if rest else {})
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1].children.append(node)
        stack.append((depth, node))
    return root


def _walk(node: _Node) -> Iterator[_Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def check_statement(ast_lines: list[str], quoted: bool) -> None:
    """A SELECT without SETTINGS, FORMAT or INTO OUTFILE (EXPLAIN AST dump);
    `quoted`: the canonical text has backquotes."""
    root = _parse_dump(ast_lines, 1)
    if not root.children:
        raise QueryRejected("SQL_SYNTAX_ERROR", "the statement is empty")
    top = root.children[0]
    kind = top.label.split(" ")[0]
    if kind not in _SELECTS:
        # "ShowTablesQuery" -> "SHOW TABLES"
        statement = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", re.sub(r"Query$", "", kind)).upper()
        if kind == "Set":
            raise QueryRejected("SETTINGS_NOT_ALLOWED",
                                "SET is not allowed; the gateway sets the query's limits",
                                statement="SET")
        if kind.startswith(_READING_STATEMENTS):
            raise QueryRejected("NOT_A_SELECT",
                                f"RunQuery runs one SELECT, not {statement}",
                                statement=statement)
        raise QueryRejected("QUERY_NOT_READ_ONLY",
                            f"RunQuery runs one read-only SELECT, not {statement}",
                            statement=statement)
    # The statement's kind is the dump's first word, which no identifier can
    # change; everything below reads lines a quoted identifier could forge.
    if quoted:
        raise QueryRejected(
            "QUOTED_IDENTIFIER_NOT_ALLOWED",
            "quoted identifiers (backquotes, or double quotes around a name that needs them) "
            "are not supported; a ` inside a string can be written as char(96)")
    for node in _walk(top):
        if node.label == "Set":
            raise QueryRejected("SETTINGS_NOT_ALLOWED",
                                "a SETTINGS clause is not allowed; the gateway sets the query's "
                                "limits (timeout and max_rows are request fields)")
    # After the statement's select list come, in this order, INTO OUTFILE
    # (a literal), FORMAT (an identifier) and SETTINGS (checked above). The
    # store's client appends FORMAT Native itself, which parses into the
    # same place: that one is what the gateway reads anyway.
    for clause in top.children[1:]:
        kind, _, value = clause.label.partition(" ")
        if kind == "Literal":
            raise QueryRejected("INTO_OUTFILE_NOT_ALLOWED", "INTO OUTFILE is not allowed")
        if kind == "Identifier" and value != "Native":
            raise QueryRejected("FORMAT_NOT_ALLOWED",
                                f"a FORMAT clause is not allowed (FORMAT {value}); rows come "
                                "back as RunQueryResponse rows", format=value)


def names_one_row_table(ast_lines: list[str]) -> bool:
    """Whether the caller's statement (EXPLAIN AST dump) names system.one
    itself; a SELECT without FROM does not."""
    for node in _walk(_parse_dump(ast_lines, 1)):
        kind, _, rest = node.label.partition(" ")
        # "TableIdentifier system.one (alias o)"
        if kind in _AST_NAMES and rest.split(" ")[0] == ONE_ROW_TABLE:
            return True
    return False


@dataclass
class _References:
    """What check_references found wrong first, in the dump's order.
    `one_row_table`: the query tree's system.one is the one a SELECT
    without FROM reads, not a name the caller wrote."""

    allowed: frozenset[str]
    database: str
    one_row_table: bool
    problem: QueryRejected | None = None

    def fail(self, problem: QueryRejected) -> None:
        if self.problem is None:
            self.problem = problem

    def table(self, name: str, ctes: frozenset[str]) -> None:
        if "." not in name and name in ctes:
            return
        database, _, table = name.rpartition(".")
        if ((name == ONE_ROW_TABLE and self.one_row_table)
                or (database in ("", self.database) and table in self.allowed)):
            return
        self.fail(QueryRejected(
            "TABLE_NOT_ALLOWED",
            f"table {name} is not readable through RunQuery; allowed: "
            f"{', '.join(sorted(self.allowed))} (database {self.database})", table=name))


def _visit(node: _Node, ctes: frozenset[str], refs: _References) -> None:
    if node.label == "QUERY" and (with_section := node.child("WITH")) is not None:
        # A CTE is visible after its definition: in later CTEs and in the
        # rest of the query (never in its own body, where the name would be
        # a table of our database).
        for item in (c for lst in with_section.children for c in lst.children):
            _visit(item, ctes, refs)
            if name := item.attributes.get("cte_name"):
                ctes = ctes | {name}
        for child in node.children:
            if child is not with_section:
                _visit(child, ctes, refs)
        return
    if node.label in _TABLE_SECTIONS:
        for child in node.children:
            if child.label == "IDENTIFIER":
                refs.table(child.attributes.get("identifier", ""), ctes)
    elif node.label == "IDENTIFIER":
        first = node.attributes.get("identifier", "").split(".")[0].lower()
        if first in ("system", "information_schema"):
            refs.table(node.attributes.get("identifier", ""), frozenset())
    elif node.label == "TABLE_FUNCTION":
        name = node.attributes.get("table_function_name", "")
        if name.lower() not in ALLOWED_TABLE_FUNCTIONS:
            refs.fail(QueryRejected(
                "TABLE_FUNCTION_NOT_ALLOWED",
                f"table function {name}() is not allowed; allowed: "
                f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}", function=name))
    elif node.label == "FUNCTION":
        name = node.attributes.get("function_name", "")
        lowered = name.lower()
        if lowered in DENIED_FUNCTIONS or lowered.startswith(DENIED_FUNCTION_PREFIXES):
            refs.fail(QueryRejected(
                "FUNCTION_NOT_ALLOWED",
                f"function {name}() reads outside the allowed tables or holds the engine; "
                "it is not allowed", function=name))
        elif lowered in SERVER_FUNCTIONS:
            refs.fail(QueryRejected(
                "FUNCTION_NOT_ALLOWED",
                f"function {name}() describes the server, not the data; it is not allowed",
                function=name))
        elif name in IN_FUNCTIONS:
            arguments = node.child("ARGUMENTS")
            listed = arguments.children[0].children if arguments and arguments.children else []
            if len(listed) == 2 and listed[1].label == "IDENTIFIER":
                refs.table(listed[1].attributes.get("identifier", ""), ctes)
    for child in node.children:
        _visit(child, ctes, refs)


def check_references(tree_lines: list[str], allowed: tuple[str, ...], database: str, *,
                     one_row_table: bool) -> None:
    """Tables, table functions and functions of an EXPLAIN QUERY TREE
    run_passes = 0 dump; `one_row_table`: its system.one may be the one a
    SELECT without FROM reads (False when the caller named it)."""
    refs = _References(frozenset(allowed), database, one_row_table)
    _visit(_parse_dump(tree_lines, 2), frozenset(), refs)
    if refs.problem is not None:
        raise refs.problem


def clickhouse_message(exc: AnalyticsStoreError) -> str:
    """ClickHouse's message about the caller's own query, without the code
    prefix, the echo of our wrapper or a stack trace."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = _EXCEPTION_PREFIX.sub("", text)
    text = text.split(": In scope ")[0].split(". Stack trace")[0]
    return _TRAILING_CODE_NAME.sub("", text)[:500]


def unavailable() -> Unavailable:
    return Unavailable("the analytics store is unreachable; retry later",
                       reason="BACKEND_UNAVAILABLE", metadata={"backend": "clickhouse"})


def check_request(request: QueryRequest, policy: QueryPolicy) -> tuple[int, float]:
    """The request's own limits, within the policy's: (max_rows, timeout_s)."""
    # sql (required, at most 65536 characters): RunQueryRequest's rules in proto/.
    v = Violations()
    if request.max_rows < 0 or request.max_rows > policy.max_rows:
        v.add("max_rows", f"must be 1-{policy.max_rows} (0: {policy.max_rows})")
    if request.timeout_s is not None and not 0 <= request.timeout_s <= policy.max_execution_s:
        v.add("timeout", f"at most {policy.max_execution_s:g}s (0: {policy.max_execution_s:g}s)")
    if len(request.parameters) > MAX_PARAMETERS:
        v.add("parameters", f"at most {MAX_PARAMETERS} parameters")
    for name, value in sorted(request.parameters.items()):
        if not PARAMETER_NAME.match(name):
            v.add(f"parameters[{name!r}]",
                  "a name is a letter or _, then letters, digits or _ (at most 64)")
        elif len(value) > MAX_PARAMETER_CHARS:
            v.add(f"parameters[{name!r}]", f"must be at most {MAX_PARAMETER_CHARS} characters")
    v.raise_if_any()
    return request.max_rows or policy.max_rows, request.timeout_s or policy.max_execution_s


def _parameter_error(exc: AnalyticsStoreError) -> InvalidArgument | None:
    message = str(exc)
    if exc.code == UNKNOWN_QUERY_PARAMETER and (m := _MISSING_PARAMETER.search(message)):
        return InvalidArgument([FieldViolation(
            f"parameters[{m.group(1)!r}]", "the query uses this parameter; give its value")])
    # Not only BAD_QUERY_PARAMETER: a value that does not parse as its type
    # fails with that type's own code (CANNOT_PARSE_DATETIME for a
    # DateTime64, CANNOT_READ_ARRAY_FROM_TEXT for an Array), and names the
    # parameter the same way.
    if (m := _BAD_PARAMETER.search(message)) is not None:
        return InvalidArgument([FieldViolation(f"parameters[{m.group(1)!r}]",
                                               clickhouse_message(exc))])
    return None


def _query_error(exc: AnalyticsStoreError, max_rows: int, timeout_s: float) -> DatagwError:
    """The caller-facing error of a query ClickHouse refused or stopped."""
    if exc.code == TOO_MANY_SIMULTANEOUS_QUERIES:
        return unavailable()
    if exc.code == TOO_MANY_ROWS_OR_BYTES:
        return ResourceExhausted(
            f"the result has more than {max_rows} rows; aggregate, filter or add a LIMIT",
            reason="RESULT_TOO_LARGE", metadata={"max_rows": str(max_rows)})
    if exc.code == TIMEOUT_EXCEEDED:
        return DeadlineExceeded(f"the query ran longer than {timeout_s:g}s and was stopped",
                                reason="QUERY_TIMEOUT", metadata={"timeout_s": f"{timeout_s:g}"})
    if exc.code == MEMORY_LIMIT_EXCEEDED:
        return ResourceExhausted(
            "the query needs more memory than the analytics policy allows (query.max_memory); "
            "aggregate, filter or add a LIMIT", reason="QUERY_MEMORY_LIMIT")
    if exc.code == READONLY:
        return QueryRejected("QUERY_NOT_READ_ONLY", "the query tried to write")
    parameter = _parameter_error(exc)
    if parameter is not None:
        return parameter
    if exc.code == SYNTAX_ERROR:
        if "Multi-statements are not allowed" in str(exc):
            return QueryRejected("MULTIPLE_STATEMENTS",
                                 "RunQuery runs exactly one statement; remove the `;` and what "
                                 "follows it")
        return QueryRejected("SQL_SYNTAX_ERROR", clickhouse_message(exc))
    return QueryRejected("QUERY_FAILED", clickhouse_message(exc),
                         clickhouse_code=str(exc.code))


def _used_parameters(canonical: str, given: Mapping[str, str]) -> dict[str, object]:
    """The given parameters the query has a `{name:Type}` placeholder for,
    as the caller's text (ClickHouse parses it for the placeholder's type).

    The store refuses a parameter without its placeholder (it binds server
    side only); a caller's parameters the query does not use are left out
    here instead, so they change nothing. A placeholder that is missing
    stays missing and ClickHouse names it.
    """
    used = placeholder_names(canonical)
    return {name: ParamText(value) for name, value in given.items() if name in used}


def check_integer_parameters(canonical: str, given: Mapping[str, str]) -> None:
    """Each value given for an integer placeholder is a whole number in its
    type's range: refused on the parameter, never wrapped around."""
    v = Violations()
    for name, unsigned, bits in _INTEGER_PLACEHOLDER.findall(canonical):
        value = given.get(name)
        if value is None:
            continue  # ClickHouse names a missing parameter itself
        width = int(bits)
        low, high = (0, 2**width - 1) if unsigned else (-(2 ** (width - 1)), 2 ** (width - 1) - 1)
        text = value.strip()
        if not _WHOLE_NUMBER.match(text) or not low <= int(text) <= high:
            v.add(f"parameters[{name!r}]",
                  f"{value!r} is not a whole number from {low} to {high} ({unsigned}Int{bits})")
    v.raise_if_any()


@contextlib.contextmanager
def _store_errors(max_rows: int, timeout_s: float) -> Iterator[None]:
    """The store's failures as the caller's errors."""
    try:
        yield
    except AnalyticsUnavailable as exc:
        raise unavailable() from exc
    except AnalyticsStoreError as exc:
        if exc.code is None:
            raise  # not ClickHouse's answer: INTERNAL
        raise _query_error(exc, max_rows, timeout_s) from exc


async def run_query(store: AnalyticsStore, policy: QueryPolicy,
                    request: QueryRequest) -> QueryResult:
    max_rows, timeout_s = check_request(request, policy)
    with _store_errors(max_rows, timeout_s):
        canonical = await statements.canonical(store, request.sql)
        check_integer_parameters(canonical, request.parameters)
        params = _used_parameters(canonical, request.parameters)
        ast = await statements.explain_ast(store, canonical, params)
        check_statement(ast, "`" in canonical)
        check_references(await statements.explain_query_tree(store, canonical, params),
                         policy.tables, store.database,
                         one_row_table=not names_one_row_table(ast))
        return await statements.run_read_only(store, canonical, params, max_rows, timeout_s,
                                              policy.max_memory_bytes)
