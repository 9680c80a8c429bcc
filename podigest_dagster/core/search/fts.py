"""DuckDB full-text search (the `fts` extension from the duckdb-extension-fts wheel), kept up to date
day by day instead of rebuilt.

`create_fts_index` builds its index once over a whole table and never sees rows added later; building it
again over a million transcript segments takes about a minute. So the index is created once, and each
day's documents are then added to (or, when a day is re-run, taken out of) the index's own tables, the
way the extension itself fills them: the same tokenizer macro, stopwords and stemmer, document lengths,
document frequencies and collection statistics, so BM25 scores are exactly those of a rebuild. A test
compares the two on a small corpus, which also guards the extension's internal layout (fts 1.5.5):
  docs(docid, name, len)  terms(docid, fieldid, termid)  dict(termid, term, df)  stats(num_docs, avgdl)
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import duckdb

STEMMER = "porter"
K1 = 1.2
B = 0.75
DISTRIBUTION = "duckdb-extension-fts"


def extension_path() -> Path:
    """The fts.duckdb_extension file of the installed wheel, for this DuckDB's version when it ships several."""
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"the {DISTRIBUTION} package is not installed (pip install {DISTRIBUTION})"
        ) from exc
    found = [Path(str(f.locate())) for f in files if f.name.endswith(".duckdb_extension")]
    if not found:
        raise FileNotFoundError(f"no .duckdb_extension file in the {DISTRIBUTION} package")
    ours = [p for p in found if f"v{duckdb.__version__}" in p.parts]
    return (ours or found)[0].resolve()


def load(conn: duckdb.DuckDBPyConnection) -> None:
    """Load the extension by path (DuckDB never downloads it); works on a read-only connection too."""
    path = extension_path().as_posix().replace("'", "''")
    conn.execute(f"LOAD '{path}'")


def schema(table: str) -> str:
    """The schema the extension keeps a main-schema table's index in."""
    return f"fts_main_{table}"


def index_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'docs'", [schema(table)]
    ).fetchone()
    return bool(found and found[0])


def create_index(conn: duckdb.DuckDBPyConnection, table: str, id_column: str, text_column: str) -> None:
    """(Re)build the index over every row of `table` (identifiers are ours, never user input)."""
    conn.execute(
        f"PRAGMA create_fts_index('{table}', '{id_column}', '{text_column}', stemmer='{STEMMER}', overwrite=1)"
    )


def add_documents(conn: duckdb.DuckDBPyConnection, table: str, source_sql: str, params: list) -> int:
    """Index the rows `source_sql` selects as (name BIGINT, text VARCHAR), none of them indexed yet.

    Run inside the caller's transaction. Returns how many documents were added."""
    fts = schema(table)
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE fts_new_docs AS "  # noqa: S608 - fts is our own schema name
        f"SELECT (SELECT coalesce(max(docid), -1) FROM {fts}.docs) + row_number() OVER (ORDER BY name) AS docid, "
        f"name, text FROM ({source_sql})",
        params,
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE fts_new_terms AS "  # noqa: S608
        f"SELECT docid, stem(token, '{STEMMER}') AS term FROM ("
        f"  SELECT docid, unnest({fts}.tokenize(text)) AS token FROM fts_new_docs) "
        f"WHERE token <> '' AND token NOT IN (SELECT sw FROM {fts}.stopwords)"
    )
    conn.execute(
        f"INSERT INTO {fts}.dict (termid, term, df) "  # noqa: S608
        f"SELECT (SELECT coalesce(max(termid), -1) FROM {fts}.dict) + row_number() OVER (ORDER BY term), term, 0 "
        f"FROM (SELECT DISTINCT term FROM fts_new_terms) n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {fts}.dict d WHERE d.term = n.term)"
    )
    conn.execute(
        f"INSERT INTO {fts}.docs (docid, name, len) "  # noqa: S608
        "SELECT d.docid, d.name, count(t.term) FROM fts_new_docs d LEFT JOIN fts_new_terms t USING (docid) "
        "GROUP BY d.docid, d.name"
    )
    conn.execute(
        f"INSERT INTO {fts}.terms (docid, fieldid, termid) "  # noqa: S608
        f"SELECT t.docid, 0, d.termid FROM fts_new_terms t JOIN {fts}.dict d USING (term)"
    )
    conn.execute(
        f"UPDATE {fts}.dict SET df = df + n.docs "  # noqa: S608
        "FROM (SELECT term, count(DISTINCT docid) AS docs FROM fts_new_terms GROUP BY term) n "
        f"WHERE {fts}.dict.term = n.term"
    )
    added = conn.execute("SELECT count(*) FROM fts_new_docs").fetchone()[0]
    conn.execute("DROP TABLE fts_new_docs")
    conn.execute("DROP TABLE fts_new_terms")
    _refresh_stats(conn, fts)
    return int(added)


def remove_documents(conn: duckdb.DuckDBPyConnection, table: str, names_sql: str, params: list) -> int:
    """Take the documents whose name `names_sql` selects out of the index (inside the caller's transaction)."""
    fts = schema(table)
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE fts_gone AS "  # noqa: S608
        f"SELECT docid FROM {fts}.docs WHERE name IN ({names_sql})",
        params,
    )
    conn.execute(
        f"UPDATE {fts}.dict SET df = df - g.docs "  # noqa: S608
        f"FROM (SELECT termid, count(DISTINCT docid) AS docs FROM {fts}.terms "
        "      WHERE docid IN (SELECT docid FROM fts_gone) GROUP BY termid) g "
        f"WHERE {fts}.dict.termid = g.termid"
    )
    conn.execute(f"DELETE FROM {fts}.dict WHERE df <= 0")  # noqa: S608
    conn.execute(f"DELETE FROM {fts}.terms WHERE docid IN (SELECT docid FROM fts_gone)")  # noqa: S608
    conn.execute(f"DELETE FROM {fts}.docs WHERE docid IN (SELECT docid FROM fts_gone)")  # noqa: S608
    removed = conn.execute("SELECT count(*) FROM fts_gone").fetchone()[0]
    conn.execute("DROP TABLE fts_gone")
    _refresh_stats(conn, fts)
    return int(removed)


def _refresh_stats(conn: duckdb.DuckDBPyConnection, fts: str) -> None:
    """Collection statistics as the extension computes them: document count and mean document length."""
    conn.execute(
        f"UPDATE {fts}.stats SET num_docs = s.n, avgdl = s.avgdl "  # noqa: S608
        f"FROM (SELECT count(*) AS n, coalesce(sum(len) / count(len), 0) AS avgdl FROM {fts}.docs) s"
    )


def query_terms_sql(table: str) -> str:
    """The query's distinct stemmed terms, exactly as `match_bm25` derives them (parameter $query)."""
    return f"SELECT DISTINCT stem(unnest({schema(table)}.tokenize($query)), '{STEMMER}') AS term"


def bm25_sql(table: str) -> str:
    """(name, score) of every document matching any query term ($query), scored by BM25 as the extension's
    `match_bm25` does (k1 = 1.2, b = 0.75, base-10 log) but straight from the index tables: a query costs
    the postings of its terms, not a call per row of the table."""
    fts = schema(table)
    return f"""
    WITH query_terms AS ({query_terms_sql(table)}),
    matched AS (SELECT d.termid, d.df FROM {fts}.dict d JOIN query_terms q ON d.term = q.term),
    tf AS (SELECT docid, termid, count(*) AS tf FROM {fts}.terms
           WHERE termid IN (SELECT termid FROM matched) GROUP BY docid, termid),
    stats AS (SELECT num_docs, avgdl FROM {fts}.stats)
    SELECT docs.name AS name,
           sum(log((stats.num_docs - matched.df + 0.5) / (matched.df + 0.5) + 1)
               * (tf.tf * ({K1} + 1)) / (tf.tf + {K1} * (1 - {B} + {B} * (docs.len / stats.avgdl)))) AS score
    FROM tf JOIN matched USING (termid) JOIN {fts}.docs docs USING (docid), stats
    GROUP BY docs.name
    """  # noqa: S608 - only our own table name and constants are formatted in
