//! Reading an uploaded CSV safely: UTF-8 with or without BOM, `,` or `;` detected from
//! the header line, quoted fields, a clear error for files that are not CSV at all. Rows
//! stream, and every row is bounded while it is read: a row over [`MAX_ROW_BYTES`] or
//! [`MAX_CELLS`] is cut off at the limit and the rest of it skipped, so no file shape
//! (one 50 MB line of `a,a,a,...`, say) can make the reader hold more than a fixed few
//! hundred KiB.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// The longest header line accepted; a longer one means this is not a lead CSV.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The longest data row accepted, as uploaded (delimiters, quotes and line ending
/// included). A real lead row is well under 8 KiB (25 contract columns, a comment of a
/// few hundred characters); 64 KiB leaves room for long comments and unknown columns
/// while capping what one row can cost.
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// The most cells a row (or the header) may have. The contract has 25 columns and the
/// JSON API allows 200 distinct keys; every cell is a separate allocation downstream, so
/// this, not the byte limit, is what stops a line of `a,a,a,...` from becoming millions
/// of strings.
pub const MAX_CELLS: usize = 200;
/// How much of a row over a limit the rejects file keeps: enough to find the row.
pub const REJECT_PREFIX_BYTES: usize = 1024;
/// Marks the last kept cell of a row that was cut off.
pub const TRUNCATED_MARK: &str = "…";
/// The heap cost of one cell besides its bytes (a `String` and its allocation), for
/// sizing chunks by memory rather than by row count: [`RawRecord::weight`].
pub const CELL_OVERHEAD_BYTES: usize = 48;

const READ_BUF_BYTES: usize = 64 * 1024;
/// Output space for skipping the rest of a row over a limit; its bytes are thrown away.
const SKIP_BUF_BYTES: usize = 8 * 1024;
const SKIP_ENDS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is binary, not a UTF-8 CSV file")]
    Binary,
    #[error("the header line is not valid UTF-8; save the file as UTF-8 CSV")]
    NotUtf8,
    #[error("the first line is longer than {} KB: is this a CSV file with a header row?", MAX_HEADER_BYTES / 1024)]
    HeaderTooLong,
    #[error("the header row has more than {MAX_CELLS} columns: is this a lead CSV?")]
    TooManyColumns,
    #[error("the header row has only one column; use `,` or `;` between columns")]
    OneColumn,
    #[error("the file could not be read: {0}")]
    Io(#[from] io::Error),
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
}

pub struct CsvFile<R: Read> {
    pub header: Vec<String>,
    pub delimiter: u8,
    rows: BoundedRows<io::Chain<io::Cursor<Vec<u8>>, R>>,
}

/// One data row: its cells, or why it could not be read as text (with what is kept of
/// it for the rejects file: at most [`REJECT_PREFIX_BYTES`] for a row over a limit).
pub enum RawRecord {
    Cells(Vec<String>),
    Unreadable(&'static str, Vec<String>),
}

impl RawRecord {
    /// About what this row costs on the heap, to bound a chunk of rows by memory.
    pub fn weight(&self) -> usize {
        let (RawRecord::Cells(c) | RawRecord::Unreadable(_, c)) = self;
        c.iter()
            .map(|s| s.len() + CELL_OVERHEAD_BYTES)
            .sum::<usize>()
            + CELL_OVERHEAD_BYTES
    }
}

/// What a reason code of [`RawRecord::Unreadable`] means, for the batch report.
pub fn unreadable_message(code: &str) -> &'static str {
    match code {
        "row_too_long" => {
            "the row is longer than 64 KB; the rejects file shows only its first 1 KB"
        }
        "too_many_cells" => {
            "the row has more than 200 cells; the rejects file shows only its first 1 KB"
        }
        "not_utf8" => "the row is not valid UTF-8",
        _ => "the row could not be read as CSV",
    }
}

fn detect_delimiter(line: &[u8]) -> u8 {
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas { b';' } else { b',' }
}

impl<R: Read> CsvFile<R> {
    pub fn open(mut source: R) -> Result<Self, FileError> {
        // Read until the end of the header line (or the limit) to check what this is.
        let mut prefix = Vec::with_capacity(8192);
        let mut buf = [0u8; 8192];
        let header_end = loop {
            if let Some(pos) = prefix.iter().position(|&b| b == b'\n') {
                break pos;
            }
            if prefix.len() > MAX_HEADER_BYTES {
                return Err(FileError::HeaderTooLong);
            }
            let n = source.read(&mut buf)?;
            if n == 0 {
                break prefix.len();
            }
            prefix.extend_from_slice(&buf[..n]);
        };
        if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
            prefix.drain(..3);
        }
        let header_end = header_end.min(prefix.len());
        if prefix.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(FileError::Empty);
        }
        if header_end > MAX_HEADER_BYTES {
            return Err(FileError::HeaderTooLong);
        }
        let header_line = &prefix[..header_end];
        if prefix.contains(&0) {
            return Err(FileError::Binary);
        }
        if std::str::from_utf8(header_line).is_err() {
            return Err(FileError::NotUtf8);
        }
        let delimiter = detect_delimiter(header_line);
        let mut rows = BoundedRows::new(io::Cursor::new(prefix).chain(source), delimiter);
        let header: Vec<String> = match rows.next_row(MAX_HEADER_BYTES)? {
            None => return Err(FileError::Empty),
            Some(Scan {
                over: Some(Over::TooLong),
                ..
            }) => return Err(FileError::HeaderTooLong),
            Some(Scan {
                over: Some(Over::TooManyCells),
                ..
            }) => {
                return Err(FileError::TooManyColumns);
            }
            Some(scan) => rows
                .cells(&scan)
                .map(|h| String::from_utf8_lossy(h).trim().to_string())
                .collect(),
        };
        if header.len() < 2 {
            return Err(FileError::OneColumn);
        }
        Ok(Self {
            header,
            delimiter,
            rows,
        })
    }

    /// The next data row; `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<RawRecord, FileError>> {
        let scan = match self.rows.next_row(MAX_ROW_BYTES) {
            Ok(None) => return None,
            Err(e) => return Some(Err(FileError::Csv(e.to_string()))),
            Ok(Some(scan)) => scan,
        };
        let record = match scan.over {
            Some(over) => {
                let code = match over {
                    Over::TooLong => "row_too_long",
                    Over::TooManyCells => "too_many_cells",
                };
                RawRecord::Unreadable(code, self.rows.prefix_cells(&scan, self.header.len()))
            }
            None => {
                let lossy = || {
                    self.rows
                        .cells(&scan)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                };
                if std::str::from_utf8(&self.rows.out[..scan.out_len]).is_err() {
                    RawRecord::Unreadable("not_utf8", lossy())
                } else {
                    RawRecord::Cells(lossy())
                }
            }
        };
        Some(Ok(record))
    }
}

/// Which limit a row went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    TooLong,
    TooManyCells,
}

/// Where one row's decoded cells lie in [`BoundedRows::out`], and whether it was cut off.
struct Scan {
    out_len: usize,
    ends_len: usize,
    over: Option<Over>,
}

/// CSV rows read into fixed buffers with `csv_core`: a row's decoded bytes go to `out`
/// (one byte more than any accepted row needs) and its cell ends to `ends` (room for
/// [`MAX_CELLS`]). When either is full, or the row's raw bytes pass the limit, the rest
/// of the row is still parsed (quotes decide where it ends) but thrown away.
struct BoundedRows<R: Read> {
    source: R,
    core: csv_core::Reader,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    skip_out: Vec<u8>,
    skip_ends: Vec<usize>,
}

impl<R: Read> BoundedRows<R> {
    fn new(source: R, delimiter: u8) -> Self {
        Self {
            source,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; READ_BUF_BYTES],
            pos: 0,
            len: 0,
            eof: false,
            out: vec![0; MAX_ROW_BYTES.max(MAX_HEADER_BYTES) + 1],
            ends: vec![0; MAX_CELLS],
            skip_out: vec![0; SKIP_BUF_BYTES],
            skip_ends: vec![0; SKIP_ENDS],
        }
    }

    /// Reads one row of at most `max_bytes` raw bytes; `None` at the end of the input.
    fn next_row(&mut self, max_bytes: usize) -> io::Result<Option<Scan>> {
        let (mut out_len, mut ends_len, mut raw) = (0usize, 0usize, 0usize);
        let mut over = None;
        loop {
            if self.pos == self.len && !self.eof {
                self.len = loop {
                    match self.source.read(&mut self.buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.pos = 0;
                self.eof = self.len == 0;
            }
            let input = &self.buf[self.pos..self.len];
            let (res, nin, nout, nend) = if over.is_none() {
                self.core
                    .read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..])
            } else {
                self.core
                    .read_record(input, &mut self.skip_out, &mut self.skip_ends)
            };
            self.pos += nin;
            raw += nin;
            if over.is_none() {
                out_len += nout;
                ends_len += nend;
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                // `out` holds more than `max_bytes`, so a full one means the row is too long.
                ReadRecordResult::OutputFull => {
                    over.get_or_insert(Over::TooLong);
                }
                ReadRecordResult::OutputEndsFull => {
                    over.get_or_insert(Over::TooManyCells);
                }
                ReadRecordResult::Record => {
                    if raw > max_bytes {
                        over.get_or_insert(Over::TooLong);
                    }
                    return Ok(Some(Scan {
                        out_len,
                        ends_len,
                        over,
                    }));
                }
                ReadRecordResult::End => return Ok(None),
            }
            if raw > max_bytes {
                over.get_or_insert(Over::TooLong);
            }
        }
    }

    /// The complete cells of a row.
    fn cells<'a>(&'a self, scan: &Scan) -> impl Iterator<Item = &'a [u8]> + 'a {
        let ends = &self.ends[..scan.ends_len];
        ends.iter().enumerate().map(move |(i, &end)| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &self.out[start..end]
        })
    }

    /// The start of a row that was cut off: at most `width` cells (the header's, so the
    /// rejects file lines up) and [`REJECT_PREFIX_BYTES`] of text, the last cell marked.
    fn prefix_cells(&self, scan: &Scan, width: usize) -> Vec<String> {
        let ends = &self.ends[..scan.ends_len];
        let last_end = ends.last().copied().unwrap_or(0);
        // The cell being read when the limit was hit, if any of it was decoded.
        let partial = (scan.out_len > last_end).then_some(scan.out_len);
        let mut cells = Vec::new();
        let (mut start, mut budget) = (0, REJECT_PREFIX_BYTES);
        for end in ends.iter().copied().chain(partial) {
            if cells.len() >= width.max(1) || budget == 0 {
                break;
            }
            let cell = &self.out[start..end];
            let take = cell.len().min(budget);
            let text = String::from_utf8_lossy(&cell[..take]);
            // A cut inside a character would show as a replacement character: drop it.
            let text = if take < cell.len() {
                text.trim_end_matches('\u{FFFD}').to_string()
            } else {
                text.into_owned()
            };
            budget -= take;
            cells.push(text);
            start = end;
        }
        match cells.last_mut() {
            Some(last) => last.push_str(TRUNCATED_MARK),
            None => cells.push(TRUNCATED_MARK.to_string()),
        }
        cells
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rows(data: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), FileError> {
        let mut f = CsvFile::open(data)?;
        let mut out = Vec::new();
        while let Some(r) = f.next_record() {
            match r? {
                RawRecord::Cells(c) => out.push(c),
                RawRecord::Unreadable(code, _) => out.push(vec![code.to_string()]),
            }
        }
        Ok((f.header, out))
    }

    #[test]
    fn comma_semicolon_bom_and_quotes_are_read() {
        let (h, r) = rows(b"\xEF\xBB\xBFName,Email\n\"Lee, Ann\",a@example.com\r\n").unwrap();
        assert_eq!(h, vec!["Name", "Email"]);
        assert_eq!(r, vec![vec!["Lee, Ann", "a@example.com"]]);
        let (h, r) = rows(b"name;email;note\nAnn;a@example.com;\"x;y\"\n").unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(r[0][2], "x;y");
    }

    #[test]
    fn files_that_are_not_csv_get_clear_errors() {
        assert!(matches!(rows(b""), Err(FileError::Empty)));
        assert!(matches!(rows(b"\n\n  \n"), Err(FileError::Empty)));
        assert!(matches!(
            rows(b"PK\x03\x04\x00\x00binary,zip\n"),
            Err(FileError::Binary)
        ));
        assert!(matches!(
            rows(b"name\xff\xfe,email\n"),
            Err(FileError::NotUtf8)
        ));
        assert!(matches!(
            rows(b"just one column\nvalue\n"),
            Err(FileError::OneColumn)
        ));
        let long = vec![b'a'; 10 * 1024 * 1024];
        assert!(matches!(rows(&long), Err(FileError::HeaderTooLong)));
    }

    #[test]
    fn bad_rows_are_reported_not_fatal() {
        let mut data = b"a,b\n1,2\n".to_vec();
        data.extend_from_slice(b"\xff\xfe,x\n");
        data.extend_from_slice(&vec![b'z'; MAX_ROW_BYTES + 10]);
        data.extend_from_slice(b",y\n3,4\n");
        let (_, r) = rows(&data).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[1], vec!["not_utf8"]);
        assert_eq!(r[2], vec!["row_too_long"]);
        assert_eq!(r[3], vec!["3", "4"]);
    }

    /// `a,a,a,...` for `len` bytes, generated as it is read (never held whole).
    struct ManyCells {
        left: usize,
    }

    impl Read for ManyCells {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.left);
            for (i, b) in out[..n].iter_mut().enumerate() {
                *b = if (self.left - i).is_multiple_of(2) {
                    b'a'
                } else {
                    b','
                };
            }
            self.left -= n;
            Ok(n)
        }
    }

    fn unreadable(r: Option<Result<RawRecord, FileError>>) -> (&'static str, Vec<String>) {
        match r {
            Some(Ok(RawRecord::Unreadable(code, cells))) => (code, cells),
            Some(Ok(RawRecord::Cells(c))) => panic!("read as cells: {} of them", c.len()),
            other => panic!("not a row: {:?}", other.map(|r| r.is_ok())),
        }
    }

    fn cells(r: Option<Result<RawRecord, FileError>>) -> Vec<String> {
        match r {
            Some(Ok(RawRecord::Cells(c))) => c,
            _ => panic!("not a readable row"),
        }
    }

    #[test]
    fn a_line_of_millions_of_cells_is_cut_off_and_the_rest_of_the_file_still_read() {
        let source = io::Cursor::new(b"name,email,age\n1,2,3\n".to_vec())
            .chain(ManyCells {
                left: 20 * 1024 * 1024,
            })
            .chain(io::Cursor::new(b"\n4,5,6\n".to_vec()));
        let mut f = CsvFile::open(source).unwrap();
        assert_eq!(cells(f.next_record()), vec!["1", "2", "3"]);
        let (code, prefix) = unreadable(f.next_record());
        assert_eq!(code, "too_many_cells");
        // No more cells than the header has, the last one marked as cut off.
        assert_eq!(prefix.len(), 3);
        assert_eq!(prefix[2], format!("a{TRUNCATED_MARK}"));
        assert_eq!(cells(f.next_record()), vec!["4", "5", "6"]);
        assert!(f.next_record().is_none());
    }

    #[test]
    fn a_huge_cell_is_rejected_as_too_long_keeping_only_its_first_kilobyte() {
        let mut data = b"name,comment,age\nAnn,\"".to_vec();
        // A quoted cell with line breaks inside: the row ends at the closing quote.
        for _ in 0..20_000 {
            data.extend_from_slice("é long,\nline\n".as_bytes());
        }
        data.extend_from_slice(b"\",34\nBob,hi,40\n");
        let mut f = CsvFile::open(&data[..]).unwrap();
        let (code, prefix) = unreadable(f.next_record());
        assert_eq!(code, "row_too_long");
        assert_eq!(prefix[0], "Ann");
        assert!(prefix[1].ends_with(TRUNCATED_MARK));
        let kept: usize = prefix.iter().map(String::len).sum();
        assert!(kept <= REJECT_PREFIX_BYTES + TRUNCATED_MARK.len(), "{kept}");
        assert_eq!(cells(f.next_record()), vec!["Bob", "hi", "40"]);
        assert!(f.next_record().is_none());
    }

    #[test]
    fn rows_at_the_limits_are_read_and_one_past_them_are_not() {
        let header = b"a,b\n".to_vec();
        let at_cells = vec!["x"; MAX_CELLS].join(",");
        let past_cells = vec!["x"; MAX_CELLS + 1].join(",");
        // MAX_ROW_BYTES with its line ending.
        let at_bytes = format!("{},y", "z".repeat(MAX_ROW_BYTES - 3));
        let past_bytes = format!("{},y", "z".repeat(MAX_ROW_BYTES - 2));
        let data = [
            header,
            format!("{at_cells}\n{past_cells}\n{at_bytes}\n{past_bytes}\nlast,row").into_bytes(),
        ]
        .concat();
        let mut f = CsvFile::open(&data[..]).unwrap();
        assert_eq!(cells(f.next_record()).len(), MAX_CELLS);
        assert_eq!(unreadable(f.next_record()).0, "too_many_cells");
        assert_eq!(cells(f.next_record())[1], "y");
        assert_eq!(unreadable(f.next_record()).0, "row_too_long");
        assert_eq!(cells(f.next_record()), vec!["last", "row"]);
        assert!(f.next_record().is_none());
    }

    #[test]
    fn a_header_of_too_many_columns_is_refused() {
        let header = vec!["c"; MAX_CELLS + 1].join(",") + "\n1,2\n";
        assert!(matches!(
            rows(header.as_bytes()),
            Err(FileError::TooManyColumns)
        ));
    }

    #[test]
    fn a_rows_weight_counts_its_cells_not_just_its_bytes() {
        let few = RawRecord::Cells(vec!["a".repeat(100)]);
        let many = RawRecord::Cells(vec!["a".to_string(); 100]);
        assert!(many.weight() > 2 * few.weight());
    }

    proptest! {
        #[test]
        fn no_input_makes_the_reader_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = rows(&data);
        }

        #[test]
        fn csv_like_text_never_panics(text in "[a-z,;\"\\n\\r ]{0,400}") {
            let _ = rows(text.as_bytes());
        }
    }
}
