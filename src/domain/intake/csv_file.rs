//! Reading an uploaded CSV safely: UTF-8 with or without BOM, `,` or `;` detected from
//! the header line, quoted fields, a clear error for files that are not CSV at all. Rows
//! stream: the file is never held whole in memory.

use std::io::{self, Read};

/// The longest header line accepted; a longer one means this is not a lead CSV.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The longest data row accepted (its cells together).
pub const MAX_ROW_BYTES: usize = 64 * 1024;

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
    reader: csv::Reader<io::Chain<io::Cursor<Vec<u8>>, R>>,
    record: csv::ByteRecord,
}

/// One data row: its cells, or why it could not be read as text.
pub enum RawRecord {
    Cells(Vec<String>),
    Unreadable(&'static str, Vec<String>),
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
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(io::Cursor::new(prefix).chain(source));
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(|e| FileError::Csv(e.to_string()))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        if header.len() < 2 {
            return Err(FileError::OneColumn);
        }
        Ok(Self {
            header,
            delimiter,
            reader,
            record: csv::ByteRecord::new(),
        })
    }

    /// The next data row; `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<RawRecord, FileError>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => Some(Err(FileError::Csv(e.to_string()))),
                _ => Some(Ok(RawRecord::Unreadable("unreadable_row", Vec::new()))),
            },
            Ok(true) => {
                let lossy = || {
                    self.record
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                };
                if self.record.as_slice().len() > MAX_ROW_BYTES {
                    let mut cells = lossy();
                    for c in &mut cells {
                        c.truncate(c.floor_char_boundary(200));
                    }
                    return Some(Ok(RawRecord::Unreadable("row_too_long", cells)));
                }
                if std::str::from_utf8(self.record.as_slice()).is_err() {
                    return Some(Ok(RawRecord::Unreadable("not_utf8", lossy())));
                }
                Some(Ok(RawRecord::Cells(lossy())))
            }
        }
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
