//! [`DataSource`]: a file of rows loaded once at start and shared read-only
//! by every worker thread (behind an `Arc`); each op picks its row with a pure
//! function of its sequence number ([`Pick`]), so picking takes no lock.
//!
//! Rows are kept as one string and the end offset of every cell: a
//! 1,000,000-row file costs its size plus 4 bytes a cell, not a `String`
//! (24 bytes plus an allocation) a cell.

use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use super::hash::{hash3, permute};

/// How each op picks its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    /// Row `seq mod rows`: in file order, wrapping.
    Sequential,
    /// A seeded hash of the op's number: repeats with `--seed`, rows may repeat.
    Random,
    /// Each pass over the file visits every row once, in a seeded order that
    /// changes every pass.
    Shuffle,
}

impl FromStr for Pick {
    type Err = String;

    fn from_str(raw: &str) -> Result<Pick, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "sequential" => Ok(Pick::Sequential),
            "random" => Ok(Pick::Random),
            "shuffle" => Ok(Pick::Shuffle),
            _ => Err(format!(
                "pick '{raw}' is not one of sequential|random|shuffle"
            )),
        }
    }
}

/// A table of rows from a CSV (header row), NDJSON (one object a line; the
/// columns are every key seen) or plain text (one row a non-empty line, column
/// `line`) file.
#[derive(Debug)]
pub struct DataSource {
    name: String,
    columns: Vec<String>,
    text: String,
    /// End offset in `text` of each cell, row after row.
    ends: Vec<u32>,
    rows: u64,
    pick: Pick,
    seed: u64,
    /// Keeps two sources' random picks independent.
    salt: u64,
}

impl DataSource {
    /// Loads `path` by its extension (`.csv`, `.ndjson`/`.jsonl`, else lines).
    /// Errors are one line naming the file (as `shown`) and the line.
    pub fn load(
        name: &str,
        path: &Path,
        shown: &str,
        pick: Pick,
        seed: u64,
    ) -> Result<DataSource, String> {
        let raw = std::fs::read_to_string(path)
            .map_err(|e| format!("data '{name}': cannot read {shown}: {e}"))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let table = match ext.as_str() {
            "csv" => Table::csv(&raw),
            "ndjson" | "jsonl" => Table::ndjson(&raw),
            _ => Ok(Table::lines(&raw)),
        }
        .map_err(|e| format!("data '{name}': {shown} {e}"))?;
        Self::from_table(name, table, pick, seed).map_err(|e| format!("data '{name}': {shown} {e}"))
    }

    /// A source from in-memory rows (tests, plugins that generate data).
    pub fn from_rows(
        name: &str,
        columns: &[&str],
        rows: &[&[&str]],
        pick: Pick,
        seed: u64,
    ) -> Result<DataSource, String> {
        let mut table = Table::new(columns.iter().map(|c| c.to_string()).collect());
        for (i, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(format!(
                    "data '{name}': row {} has {} fields, expected {}",
                    i + 1,
                    row.len(),
                    columns.len()
                ));
            }
            row.iter().for_each(|cell| table.push(cell));
        }
        Self::from_table(name, table, pick, seed).map_err(|e| format!("data '{name}': {e}"))
    }

    fn from_table(name: &str, table: Table, pick: Pick, seed: u64) -> Result<DataSource, String> {
        let width = table.columns.len().max(1);
        let rows = (table.ends.len() / width) as u64;
        if rows == 0 {
            return Err("has no rows".into());
        }
        let salt = name
            .bytes()
            .fold(0u64, |h, b| super::hash::mix(h ^ u64::from(b)));
        let mut text = table.text;
        text.shrink_to_fit();
        let mut ends = table.ends;
        ends.shrink_to_fit();
        Ok(DataSource {
            name: name.to_string(),
            columns: table.columns,
            text,
            ends,
            rows,
            pick,
            seed,
            salt,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn pick(&self) -> Pick {
        self.pick
    }

    /// The row op `seq` uses: the same for every column of one op.
    pub fn row_for(&self, seq: u64) -> u64 {
        let n = self.rows;
        match self.pick {
            Pick::Sequential => seq % n,
            Pick::Random => hash3(self.seed, self.salt, seq) % n,
            Pick::Shuffle => permute(seq % n, n, hash3(self.seed, self.salt, seq / n)),
        }
    }

    /// Cell `column` of `row`.
    pub fn cell(&self, row: u64, column: usize) -> &str {
        let k = row as usize * self.columns.len() + column;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text[start..self.ends[k] as usize]
    }

    /// Bytes held (text and offsets), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }
}

/// Rows being read: cells appended to one string.
struct Table {
    columns: Vec<String>,
    text: String,
    ends: Vec<u32>,
}

impl Table {
    fn new(columns: Vec<String>) -> Table {
        Table {
            columns,
            text: String::new(),
            ends: Vec::new(),
        }
    }

    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        // Checked by the size guard in `csv`/`ndjson`/`lines`: < 4 GiB.
        self.ends.push(self.text.len() as u32);
    }

    fn guard(raw: &str) -> Result<(), String> {
        if raw.len() >= u32::MAX as usize {
            return Err("is larger than 4 GiB".into());
        }
        Ok(())
    }

    fn csv(raw: &str) -> Result<Table, String> {
        Self::guard(raw)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(raw.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| csv_error(&e))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect::<Vec<_>>();
        if headers.iter().all(String::is_empty) {
            return Err("line 1: no header row (the first line names the columns)".into());
        }
        let mut table = Table::new(headers);
        table.text.reserve(raw.len());
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => record.iter().for_each(|cell| table.push(cell)),
                Err(e) => return Err(csv_error(&e)),
            }
        }
        Ok(table)
    }

    fn ndjson(raw: &str) -> Result<Table, String> {
        Self::guard(raw)?;
        let mut objects = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        for (i, line) in raw.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
                .map_err(|e| format!("line {}: not a JSON object ({e})", i + 1))?;
            for key in object.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
            objects.push(object);
        }
        let mut table = Table::new(columns);
        for object in &objects {
            for c in 0..table.columns.len() {
                let cell = match object.get(&table.columns[c]) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                table.push(&cell);
            }
        }
        Ok(table)
    }

    fn lines(raw: &str) -> Table {
        let mut table = Table::new(vec!["line".to_string()]);
        table.text.reserve(raw.len());
        for line in raw.lines().filter(|l| !l.trim().is_empty()) {
            table.push(line);
        }
        table
    }
}

fn csv_error(e: &csv::Error) -> String {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("line {line}: {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => format!("line {line}: not UTF-8"),
        _ => format!("line {line}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("loadgen-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(name: &str, text: &str) -> Result<DataSource, String> {
        DataSource::load("d", &write(name, text), name, Pick::Sequential, 1)
    }

    #[test]
    fn csv_ndjson_and_lines_become_rows_of_named_columns() {
        let csv = load("a.csv", "id,name\n1,apple\n2,\"b, c\"\n").unwrap();
        assert_eq!(csv.columns(), ["id", "name"]);
        assert_eq!(
            (csv.rows(), csv.cell(1, 1), csv.cell(0, 0)),
            (2, "b, c", "1")
        );
        let nd = load(
            "a.ndjson",
            "{\"id\": 7, \"s\": \"x\"}\n\n{\"id\": 8, \"t\": true}\n",
        )
        .unwrap();
        assert_eq!(nd.columns(), ["id", "s", "t"]);
        assert_eq!(
            (nd.cell(0, 0), nd.cell(0, 1), nd.cell(1, 2), nd.cell(1, 1)),
            ("7", "x", "true", "")
        );
        let lines = load("a.txt", "one\n\ntwo\n").unwrap();
        assert_eq!(
            (lines.columns(), lines.rows(), lines.cell(1, 0)),
            (&["line".to_string()][..], 2, "two")
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_line() {
        let table: &[(&str, &str, &str)] = &[
            (
                "bad.csv",
                "id,name\n1,a\n2\n",
                "data 'd': bad.csv line 3: 1 fields, the header has 2",
            ),
            (
                "bad.ndjson",
                "{\"id\":1}\n{\"id\":\n",
                "data 'd': bad.ndjson line 2: not a JSON object",
            ),
            (
                "arr.jsonl",
                "[1,2]\n",
                "data 'd': arr.jsonl line 1: not a JSON object",
            ),
            ("empty.csv", "id\n", "data 'd': empty.csv has no rows"),
        ];
        for (name, text, want) in table {
            let err = load(name, text).unwrap_err();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
            assert!(!err.contains('\n'), "{err:?}");
        }
        let err = DataSource::load(
            "d",
            Path::new("/nonexistent/x.csv"),
            "x.csv",
            Pick::Random,
            0,
        )
        .unwrap_err();
        assert!(err.starts_with("data 'd': cannot read x.csv: "), "{err}");
    }

    #[test]
    fn picks_sequential_wraps_shuffle_visits_each_row_once_a_pass_random_is_seeded() {
        let rows: Vec<[&str; 1]> = vec![["r"]; 10];
        let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
        let source = |pick, seed| DataSource::from_rows("d", &["c"], &rows, pick, seed).unwrap();
        let seq = source(Pick::Sequential, 0);
        assert_eq!(
            (0..12).map(|s| seq.row_for(s)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
        );
        let shuffle = source(Pick::Shuffle, 7);
        let pass = |p: u64| {
            let mut rows: Vec<u64> = (p * 10..p * 10 + 10).map(|s| shuffle.row_for(s)).collect();
            let order = rows.clone();
            rows.sort_unstable();
            assert_eq!(rows, (0..10).collect::<Vec<_>>());
            order
        };
        assert_ne!(pass(0), pass(1), "each pass reshuffles");
        let (a, b) = (source(Pick::Random, 1), source(Pick::Random, 1));
        let picks: Vec<u64> = (0..100).map(|s| a.row_for(s)).collect();
        assert_eq!(picks, (0..100).map(|s| b.row_for(s)).collect::<Vec<_>>());
        assert!(picks.iter().all(|&r| r < 10));
        assert_ne!(
            picks,
            (0..100)
                .map(|s| source(Pick::Random, 2).row_for(s))
                .collect::<Vec<_>>()
        );
    }
}
