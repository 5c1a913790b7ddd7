//! Outgoing mail. Business code renders a mail into the outbox inside its own transaction
//! (so a rolled-back change never mails anyone); the outbox worker sends it after commit
//! through the configured transport, with retries.

use std::sync::{Arc, Mutex};

use askama::Template;
use lettre::Transport as _;
use lettre::message::{Mailbox, MultiPart};

use crate::config::{MailConfig, MailTransport};

mod templates;
pub use templates::*;

/// A mail ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub template: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Rendered {
    /// The outbox row's fields: the store takes plain values, mail does the converting.
    pub fn for_outbox(&self) -> crate::store::outbox::NewMail<'_> {
        crate::store::outbox::NewMail {
            template: self.template,
            subject: &self.subject,
            text: &self.text,
            html: &self.html,
        }
    }
}

/// A mail with a subject, a text part and an HTML part, each an askama template under
/// `templates/emails/<name>/`.
pub trait Email {
    fn render(&self) -> Result<Rendered, askama::Error>;
}

/// A mail the memory transport kept (tests read them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

enum Transport {
    Smtp(Box<lettre::SmtpTransport>),
    File(lettre::FileTransport),
    Memory(Mutex<Vec<SentMail>>),
}

/// Sends mail through the configured transport; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &*self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::File(_) => "file",
            Transport::Memory(_) => "memory",
        };
        write!(f, "Mailer({kind})")
    }
}

impl Mailer {
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM `{}` is not a mailbox: {e}", config.from))?;
        let transport = match &config.transport {
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the mail folder {}: {e}", dir.display())
                })?;
                Transport::File(lettre::FileTransport::new(dir))
            }
            MailTransport::Smtp(url) => Transport::Smtp(Box::new(
                lettre::SmtpTransport::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
                    .build(),
            )),
            MailTransport::Memory => Transport::Memory(Mutex::new(Vec::new())),
        };
        Ok(Self {
            from,
            transport: Arc::new(transport),
        })
    }

    /// Sends one mail (blocking: the outbox worker calls it off the async threads).
    pub fn send(&self, to: &str, subject: &str, text: &str, html: &str) -> Result<(), String> {
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| format!("recipient is not a mailbox: {e}"))?;
        match &*self.transport {
            Transport::Memory(sent) => {
                sent.lock()
                    .map_err(|_| "the memory mailbox is poisoned".to_string())?
                    .push(SentMail {
                        to: to.to_string(),
                        subject: subject.to_string(),
                        text: text.to_string(),
                        html: html.to_string(),
                    });
                Ok(())
            }
            Transport::File(t) => t
                .send(&self.message(to_box, subject, text, html)?)
                .map(drop)
                .map_err(|e| e.to_string()),
            Transport::Smtp(t) => t
                .send(&self.message(to_box, subject, text, html)?)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    fn message(
        &self,
        to: Mailbox,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<lettre::Message, String> {
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.to_string(),
                html.to_string(),
            ))
            .map_err(|e| e.to_string())
    }

    /// What the memory transport has sent (empty for the other transports).
    pub fn sent(&self) -> Vec<SentMail> {
        match &*self.transport {
            Transport::Memory(sent) => sent.lock().map(|s| s.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// Renders the three parts of a mail; used by the `email!` declarations.
pub(crate) fn parts(
    template: &'static str,
    subject: &impl Template,
    text: &impl Template,
    html: &impl Template,
) -> Result<Rendered, askama::Error> {
    Ok(Rendered {
        template,
        subject: subject.render()?.trim().to_string(),
        text: text.render()?,
        html: html.render()?,
    })
}
