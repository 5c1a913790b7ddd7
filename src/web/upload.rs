//! Reading a multipart upload: text fields into a map, the file streamed to a temporary
//! file (never held in memory) and hashed on the way, with size limits.

use std::collections::HashMap;
use std::io::Write as _;

use actix_multipart::Multipart;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};

use crate::error::{AppError, FieldProblem};

pub struct Upload {
    pub fields: HashMap<String, String>,
    pub file: Option<UploadedFile>,
}

pub struct UploadedFile {
    pub filename: Option<String>,
    pub temp: tempfile::NamedTempFile,
    pub size: u64,
    /// SHA-256 of the file's bytes, computed while streaming (for idempotency keys).
    pub sha256: [u8; 32],
}

const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The file part must be named `file`; every other part is a text field.
pub async fn read(mut multipart: Multipart, max_file_bytes: u64) -> Result<Upload, AppError> {
    let mut fields = HashMap::new();
    let mut file = None;
    let bad = |m: String| AppError::invalid("file", m);
    while let Some(item) = multipart.next().await {
        let mut field =
            item.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string);
            let mut temp = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
            let mut size: u64 = 0;
            let mut hasher = Sha256::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| {
                    AppError::BadRequest(format!("the upload could not be read: {e}"))
                })?;
                size += chunk.len() as u64;
                if size > max_file_bytes {
                    return Err(bad(format!(
                        "is larger than {} MB",
                        max_file_bytes / (1024 * 1024)
                    )));
                }
                hasher.update(&chunk);
                temp.write_all(&chunk).map_err(AppError::internal)?;
            }
            temp.flush().map_err(AppError::internal)?;
            file = Some(UploadedFile {
                filename,
                temp,
                size,
                sha256: hasher.finalize().into(),
            });
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| {
                    AppError::BadRequest(format!("the upload could not be read: {e}"))
                })?;
                if value.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(AppError::invalid(name.clone(), "is too long"));
                }
                value.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(value)
                .map_err(|_| AppError::invalid(name.clone(), "is not UTF-8 text"))?;
            if let Some((field, c)) = crate::domain::text::pairs_refused(
                [(name.as_str(), text.as_str())],
                crate::domain::text::TextKind::Free,
            ) {
                let problem = crate::domain::text::problem(c);
                return Err(AppError::invalid(field, problem));
            }
            fields.insert(name, text);
        }
    }
    Ok(Upload { fields, file })
}

/// Batch terms from text fields; numbers that do not parse are listed as problems.
pub fn batch_input(
    fields: &HashMap<String, String>,
) -> Result<crate::services::intake::BatchInput, AppError> {
    let text = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut problems = Vec::new();
    let mut number = |k: &'static str| -> Option<i64> {
        let v = text(k)?;
        match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(FieldProblem::new(k, "must be a whole number"));
                None
            }
        }
    };
    let price_cents = number("price_cents");
    let max_sales = number("max_sales");
    let action_price_cents = number("action_price_cents");
    let traffic = number("traffic");
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    Ok(crate::services::intake::BatchInput {
        kind: text("kind"),
        order_id: text("order_id"),
        segment: text("segment"),
        channel: text("channel"),
        price_cents,
        max_sales: max_sales.map(|m| m.clamp(-1, 1000) as i32),
        billing: text("billing"),
        action_price_cents,
        consent_text: text("consent_text"),
        traffic,
    })
}
