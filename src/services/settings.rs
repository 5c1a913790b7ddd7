//! Platform settings while the site runs: the configuration every part of a process
//! reads (`LiveConfig`: the environment's, with the stored settings in place once an
//! admin saved them), kept fresh by polling one version number, and the admin's change,
//! validated and audited in one transaction.

use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use crate::config::Config;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, AuditActor};
use crate::domain::settings::PlatformSettings;
use crate::error::{AppError, FieldProblem};
use crate::store;
use crate::store::settings::Stored;

/// How often each process looks for a change another process saved.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The configuration in force, shared by a process's workers and jobs.
pub struct LiveConfig {
    /// From the environment: the first values, and everything the page does not edit.
    base: Config,
    current: RwLock<(Option<i64>, Arc<Config>)>,
}

impl LiveConfig {
    /// The environment's configuration with `stored` applied.
    pub fn new(base: Config, stored: Option<Stored>) -> Self {
        let current = Self::build(&base, stored);
        LiveConfig {
            base,
            current: RwLock::new(current),
        }
    }

    /// As `new`, reading the stored settings (start of a process, CLI commands).
    pub fn load(conn: &mut AnyConnection, base: Config) -> Result<Self, AppError> {
        let stored = store::settings::load(conn)?;
        Ok(Self::new(base, stored))
    }

    fn build(base: &Config, stored: Option<Stored>) -> (Option<i64>, Arc<Config>) {
        match stored {
            Some(s) => (Some(s.version), Arc::new(base.with_settings(&s.settings))),
            None => (None, Arc::new(base.clone())),
        }
    }

    pub fn current(&self) -> Arc<Config> {
        // A poisoned lock still holds a whole value: it is only ever replaced whole.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard.1.clone()
    }

    pub fn environment(&self) -> &Config {
        &self.base
    }

    fn put(&self, stored: Option<Stored>) {
        let next = Self::build(&self.base, stored);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
    }

    /// Reads the stored version and, when it moved, the settings: `true` if they changed.
    pub fn refresh(&self, conn: &mut AnyConnection) -> Result<bool, AppError> {
        let seen = self.current.read().unwrap_or_else(|e| e.into_inner()).0;
        if store::settings::version(conn)? == seen {
            return Ok(false);
        }
        self.put(store::settings::load(conn)?);
        Ok(true)
    }
}

/// Who changes the settings and from where.
#[derive(Debug, Clone)]
pub struct Admin {
    pub user_id: String,
    pub address: String,
}

/// Applies a submitted settings form: every field validated (all problems listed), the
/// new set stored under the next version and the change audited with its before and
/// after. `None` when nothing changed (nothing stored, nothing audited).
pub fn update(
    conn: &mut AnyConnection,
    live: &LiveConfig,
    admin: &Admin,
    form: &[(String, String)],
    now: NaiveDateTime,
) -> Result<Option<Stored>, AppError> {
    let stored = write_transaction(conn, |conn| {
        let stored = store::settings::load(conn)?;
        let before = stored.map_or_else(|| live.environment().platform_settings(), |s| s.settings);
        let after = before.parse_form(form).map_err(|problems| {
            AppError::Validation(
                problems
                    .into_iter()
                    .map(|(field, problem)| FieldProblem::new(field, problem))
                    .collect(),
            )
        })?;
        let changes = before.changes(&after);
        if changes.is_empty() {
            return Ok::<_, AppError>(None);
        }
        let version = stored.map_or(1, |s| s.version + 1);
        store::settings::save(conn, &after, version, &admin.user_id, now)?;
        store::audit::record(
            conn,
            store::audit::Entry {
                action: AuditAction::SettingsChanged,
                actor: AuditActor::Admin,
                user_id: Some(&admin.user_id),
                address: Some(&admin.address),
                request_id: None,
                leads: 0,
                org_id: None,
                detail: Some(&changes.join("; ")),
            },
            now,
        )?;
        Ok(Some(Stored {
            settings: after,
            version,
        }))
    })?;
    // This process sees its own change at once; the others at their next poll.
    if stored.is_some() {
        live.put(stored);
    }
    Ok(stored)
}

/// The settings in force and whether they are still the environment's.
pub fn in_force(live: &LiveConfig) -> (PlatformSettings, bool) {
    let current = live.current();
    let from_env = live
        .current
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .0
        .is_none();
    (current.platform_settings(), from_env)
}
