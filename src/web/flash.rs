//! Flash messages: set by a handler before its redirect, kept in the (encrypted, signed)
//! session cookie and shown once by the next page that takes it. A page never shows text
//! from its URL as a banner: `?notice=...` was a phishing aid.
//!
//! ```text
//! flash::set(&session, Flash::notice("Dispute opened."))?;
//! Ok(redirect("/disputes"))
//! // ...and in the page's handler:
//! notice: flash::take(&session).map(|f| f.message),
//! ```

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldProblem};

const SESSION_KEY: &str = "flash";

/// At most this many ids ride along: the whole session must fit in one cookie (4 KB).
pub const MAX_IDS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    /// Something worked.
    Notice,
    /// Something was refused; the page says why.
    Alert,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub tone: Tone,
    pub message: String,
    /// Records the message is about (e.g. the purchases just made), for the next page
    /// to highlight; at most `MAX_IDS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
}

impl Flash {
    pub fn notice(message: impl Into<String>) -> Self {
        Self {
            tone: Tone::Notice,
            message: message.into(),
            ids: Vec::new(),
        }
    }

    pub fn alert(message: impl Into<String>) -> Self {
        Self {
            tone: Tone::Alert,
            message: message.into(),
            ids: Vec::new(),
        }
    }

    /// Carries up to `MAX_IDS` of `ids` (the first ones given).
    pub fn with_ids(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.ids = ids.into_iter().take(MAX_IDS).collect();
        self
    }

    /// A refused action as one alert in plain sentences (each refused field's problem).
    pub fn refused(e: &AppError) -> Self {
        let details = e.details();
        let message = if details.is_empty() {
            FieldProblem::new("", e.public_message()).sentence()
        } else {
            details
                .iter()
                .map(FieldProblem::sentence)
                .collect::<Vec<_>>()
                .join(" ")
        };
        Self::alert(message)
    }

    pub fn is_alert(&self) -> bool {
        self.tone == Tone::Alert
    }
}

/// Keeps `flash` for the next page (replacing one not yet shown).
pub fn set(session: &Session, flash: Flash) -> Result<(), AppError> {
    session
        .insert(SESSION_KEY, flash)
        .map_err(AppError::internal)
}

/// The flash set before this request, removed so it shows once.
pub fn take(session: &Session) -> Option<Flash> {
    // Only a session holding a flash is changed (and so its cookie rewritten).
    match session.get::<Flash>(SESSION_KEY) {
        Ok(None) => None,
        found => {
            // One that no longer reads (an older shape) goes too, rather than stick.
            session.remove(SESSION_KEY);
            found.ok().flatten()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_capped_so_the_cookie_stays_small() {
        let f = Flash::notice("x").with_ids((0..200).map(|i| i.to_string()));
        assert_eq!(f.ids.len(), MAX_IDS);
        assert_eq!(f.ids[0], "0");
    }

    #[test]
    fn a_refusal_reads_as_sentences() {
        let e = AppError::invalid(
            "lead_id",
            "the return window of 7 days after purchase has closed",
        );
        assert_eq!(
            Flash::refused(&e).message,
            "The return window of 7 days after purchase has closed."
        );
        assert!(Flash::refused(&e).is_alert());
    }

    #[test]
    fn a_flash_survives_the_trip_through_json() {
        let f = Flash::alert("refused").with_ids(["a".to_string()]);
        let back: Flash = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert!(back.is_alert());
    }
}
