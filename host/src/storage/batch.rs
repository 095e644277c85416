//! Multi-row statements for group commits: a batch is cut into runs of a few
//! fixed sizes so each connection prepares only a handful of distinct texts,
//! and the texts are built once per size and dialect. SQLite gets plain `?`
//! placeholders (binding `$N` names costs it a lookup per parameter, which
//! grows with the square of a statement's size), PostgreSQL `$N`.

use super::Backend;

/// Rows per multi-row statement.
pub(super) const CHUNK_SIZES: [usize; 4] = [64, 16, 4, 1];

/// One statement text per chunk size, per dialect.
pub(super) struct Statements {
    sqlite: Vec<String>,
    postgres: Vec<String>,
}

impl Statements {
    /// `build(rows, numbered)` writes the statement for `rows` rows.
    pub(super) fn new(build: impl Fn(usize, bool) -> String) -> Self {
        let all = |numbered| {
            CHUNK_SIZES
                .iter()
                .map(|&rows| build(rows, numbered))
                .collect()
        };
        Statements {
            sqlite: all(false),
            postgres: all(true),
        }
    }

    pub(super) fn get(&self, backend: Backend, size_index: usize) -> &str {
        match backend {
            Backend::Sqlite => &self.sqlite[size_index],
            Backend::Postgres => &self.postgres[size_index],
        }
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…)` per chunk size.
pub(super) fn inserts(table: &str, columns: &str, arity: usize) -> Statements {
    Statements::new(|rows, numbered| {
        format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            value_rows(arity, rows, numbered)
        )
    })
}

/// `(?, ?), (?, ?)` or `($1, $2), ($3, $4)`: `rows` tuples of `arity` parameters.
pub(super) fn value_rows(arity: usize, rows: usize, numbered: bool) -> String {
    let mut sql = String::new();
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..arity {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&param(row * arity + col + 1, numbered));
        }
        sql.push(')');
    }
    sql
}

/// The `n`th parameter (1-based) in the dialect's style.
pub(super) fn param(n: usize, numbered: bool) -> String {
    if numbered {
        format!("${n}")
    } else {
        "?".to_string()
    }
}

/// Splits `len` items into runs of the fixed chunk sizes: (start, index into CHUNK_SIZES).
pub(super) fn chunks(len: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, &size) in CHUNK_SIZES.iter().enumerate() {
        while len - start >= size {
            out.push((start, index));
            start += size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once() {
        for len in [0usize, 1, 3, 4, 5, 63, 64, 65, 100, 257] {
            let covered: usize = chunks(len).iter().map(|&(_, i)| CHUNK_SIZES[i]).sum();
            assert_eq!(covered, len);
            let mut next = 0;
            for (start, i) in chunks(len) {
                assert_eq!(start, next);
                next += CHUNK_SIZES[i];
            }
        }
    }

    #[test]
    fn placeholders_per_dialect() {
        assert_eq!(value_rows(2, 2, true), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(2, 2, false), "(?, ?), (?, ?)");
    }
}
