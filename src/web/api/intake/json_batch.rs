//! `POST /batches` with a JSON body: `{"batch": {...}, "leads": [...]}` turned into the
//! CSV the intake pipeline reads. The leads are streamed out of the body one at a time
//! (twice: once for the header's keys, once for the rows), so a 64 MB body never becomes
//! a tree of JSON values several times its size.

use std::fmt;
use std::io::Write as _;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::AppError;
use crate::services::intake::BatchInput;

/// The most distinct keys the leads may use: the CSV reader's cell limit.
const MAX_KEYS: usize = crate::domain::intake::csv_file::MAX_CELLS;

type Each<'a> = &'a mut dyn FnMut(Map<String, Value>) -> Result<(), String>;

/// The batch terms and a CSV file of the leads: the header is every key in order of
/// first appearance.
pub fn to_csv(body: &[u8]) -> Result<(BatchInput, tempfile::NamedTempFile), AppError> {
    let not_a_batch =
        |e: serde_json::Error| AppError::invalid("body", format!("is not a batch: {e}"));
    let mut names: Vec<String> = Vec::new();
    let mut too_many_keys = false;
    let parsed = stream(body, &mut |lead| {
        for k in lead.keys() {
            if !names.contains(k) {
                if names.len() >= MAX_KEYS {
                    too_many_keys = true;
                    return Err("too many distinct keys".into());
                }
                names.push(k.clone());
            }
        }
        Ok(())
    });
    if too_many_keys {
        return Err(AppError::invalid(
            "leads",
            format!("use at most {MAX_KEYS} distinct keys"),
        ));
    }
    let (input, count) = parsed.map_err(not_a_batch)?;
    if count == 0 {
        return Err(AppError::invalid("leads", "must hold at least one lead"));
    }
    let temp = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(
        temp.reopen().map_err(AppError::internal)?,
    ));
    w.write_record(&names).map_err(AppError::internal)?;
    let mut failed = None;
    let written = stream(body, &mut |lead| {
        let row = names
            .iter()
            .map(|n| lead.get(n).map(cell).unwrap_or_default());
        w.write_record(row).map_err(|e| {
            let message = e.to_string();
            failed = Some(e);
            message
        })
    });
    written.map_err(|e| match failed.take() {
        Some(io) => AppError::internal(io),
        None => not_a_batch(e),
    })?;
    w.into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!(e.to_string())))?
        .flush()
        .map_err(AppError::internal)?;
    Ok((input, temp))
}

/// A JSON value as a CSV cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Parses the body, handing each lead to `each` as soon as it is read; returns the batch
/// terms and how many leads there were.
fn stream(body: &[u8], each: Each<'_>) -> Result<(BatchInput, usize), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = BatchSeed(each).deserialize(&mut de)?;
    de.end()?;
    Ok(parsed)
}

struct BatchSeed<'a>(Each<'a>);

impl<'de> DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = (BatchInput, usize);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = (BatchInput, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `batch` and `leads`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let each = self.0;
        let (mut batch, mut leads) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "batch" if batch.is_some() => return Err(de::Error::duplicate_field("batch")),
                "leads" if leads.is_some() => return Err(de::Error::duplicate_field("leads")),
                "batch" => batch = Some(map.next_value::<BatchInput>()?),
                "leads" => leads = Some(map.next_value_seed(LeadsSeed(&mut *each))?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((
            batch.ok_or_else(|| de::Error::missing_field("batch"))?,
            leads.ok_or_else(|| de::Error::missing_field("leads"))?,
        ))
    }
}

struct LeadsSeed<'a>(Each<'a>);

impl<'de> DeserializeSeed<'de> for LeadsSeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LeadsSeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of lead objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(lead) = seq.next_element::<Map<String, Value>>()? {
            (self.0)(lead).map_err(de::Error::custom)?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_of(body: &str) -> Result<(BatchInput, String), AppError> {
        let (input, temp) = to_csv(body.as_bytes())?;
        Ok((input, std::fs::read_to_string(temp.path()).unwrap()))
    }

    #[test]
    fn leads_become_csv_rows_under_the_keys_in_order_of_first_appearance() {
        let (input, csv) = csv_of(
            r#"{"leads": [{"email": "a@x.com", "age": 34}, {"phone": "1", "email": "b@x.com", "verified": true, "x": null}],
                "other": [1, 2], "batch": {"segment": "insurance.car", "price_cents": 100}}"#,
        )
        .unwrap();
        assert_eq!(input.segment.as_deref(), Some("insurance.car"));
        assert_eq!(input.price_cents, Some(100));
        // Within one lead the keys come sorted (`serde_json::Map` is ordered by key).
        assert_eq!(
            csv,
            "age,email,phone,verified,x\n34,a@x.com,,,\n,b@x.com,1,true,\n"
        );
    }

    #[test]
    fn bodies_that_are_not_batches_are_refused_with_the_reason() {
        let problem = |body: &str| match csv_of(body) {
            Err(AppError::Validation(p)) => format!("{}: {}", p[0].field, p[0].problem),
            _ => panic!("accepted: {body}"),
        };
        assert!(problem(r#"{"batch": {}}"#).contains("missing field `leads`"));
        assert!(problem(r#"{"leads": [{}]}"#).contains("missing field `batch`"));
        assert!(problem(r#"{"batch": {}, "leads": []}"#).starts_with("leads: must hold"));
        assert!(problem(r#"{"batch": {}, "leads": [1]}"#).starts_with("body: is not a batch"));
        assert!(problem(r#"{"batch": {}, "leads": [{}]} x"#).starts_with("body:"));
        let wide: Vec<String> = (0..=MAX_KEYS).map(|i| format!("\"k{i}\": 1")).collect();
        let body = format!(r#"{{"batch": {{}}, "leads": [{{{}}}]}}"#, wide.join(","));
        assert!(problem(&body).starts_with("leads: use at most 200"));
    }
}
