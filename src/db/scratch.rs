//! Throw-away databases for the test suite and `leadmarket bench`: a SQLite file in a
//! fresh temp folder, or a new PostgreSQL database created on the server an admin URL
//! names. Dropping a `ScratchDb` removes it (the folder, or `DROP DATABASE ... WITH
//! (FORCE)`), unless it was kept.

use std::path::PathBuf;

use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;

use super::{DatabaseUrl, DbSetupError, Pool};

#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("cannot make a temp folder for the SQLite database")]
    Folder(#[source] std::io::Error),
    // The cause is in the message (a test's panic shows only that), not also a source.
    #[error("cannot reach the PostgreSQL server: {0}")]
    Connect(diesel::ConnectionError),
    #[error("cannot create the database {name}: {error}")]
    Create {
        name: String,
        error: diesel::result::Error,
    },
}

/// What is removed when the database is dropped.
enum Owner {
    /// The folder holding the SQLite file.
    Folder(
        #[expect(dead_code, reason = "held so the folder lives as long as the database")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Kept, or never ours to remove.
    Nobody,
}

pub struct ScratchDb {
    url: DatabaseUrl,
    owner: Owner,
}

impl ScratchDb {
    /// A fresh database of `base`'s backend: for SQLite a temp file `{label}.db` (`base`'s
    /// path is not touched), for PostgreSQL a new database `lm_{label}_<uuid>` on `base`'s
    /// server.
    pub fn beside(base: &DatabaseUrl, label: &str) -> Result<Self, ScratchError> {
        match base {
            DatabaseUrl::Sqlite(_) => Self::sqlite(label),
            DatabaseUrl::Postgres(admin_url) => Self::postgres(admin_url, label),
        }
    }

    /// `{label}.db` in a new temp folder, removed with it.
    pub fn sqlite(label: &str) -> Result<Self, ScratchError> {
        let dir = tempfile::tempdir().map_err(ScratchError::Folder)?;
        Ok(Self {
            url: DatabaseUrl::Sqlite(dir.path().join(format!("{label}.db"))),
            owner: Owner::Folder(dir),
        })
    }

    /// A SQLite file at `path` that outlives this value: nothing is removed on drop.
    pub fn sqlite_file(path: PathBuf) -> Self {
        Self {
            url: DatabaseUrl::Sqlite(path),
            owner: Owner::Nobody,
        }
    }

    /// A new, empty database `lm_{label}_<uuid>` on the server of `admin_url` (whose own
    /// database is only connected to, to create and later drop the new one).
    pub fn postgres(admin_url: &str, label: &str) -> Result<Self, ScratchError> {
        let name = format!("lm_{label}_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            diesel::PgConnection::establish(admin_url).map_err(ScratchError::Connect)?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(|error| ScratchError::Create {
                name: name.clone(),
                error,
            })?;
        Ok(Self {
            url: DatabaseUrl::Postgres(with_database(admin_url, &name)),
            owner: Owner::Postgres {
                admin_url: admin_url.to_string(),
                name,
            },
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The database as a `DATABASE_URL` value.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => path.to_string_lossy().to_string(),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Leaves a PostgreSQL database in place after this value is gone (a temp SQLite
    /// folder still goes: keep a SQLite database with `sqlite_file`).
    pub fn keep(&mut self) {
        if matches!(self.owner, Owner::Postgres { .. }) {
            self.owner = Owner::Nobody;
        }
    }

    /// A pool of `max_size` on the database, with every migration applied.
    pub fn migrated_pool(&self, max_size: u32) -> Result<Pool, DbSetupError> {
        let pool = super::connect_pool(&self.url, max_size)?;
        let mut conn = pool.get().map_err(|e| DbSetupError::Connect {
            url: self.url.redacted(),
            source: Box::new(e),
        })?;
        super::run_migrations(&mut conn)?;
        drop(conn);
        Ok(pool)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // FORCE ends connections still open (a pool not yet closed): the database goes.
        if let Owner::Postgres { admin_url, name } = &self.owner
            && let Ok(mut admin) = diesel::PgConnection::establish(admin_url)
        {
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

/// Replaces the database name of a PostgreSQL URL, keeping its query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn a_sqlite_scratch_database_goes_with_its_folder() {
        let db = ScratchDb::sqlite("unit").unwrap();
        let DatabaseUrl::Sqlite(file) = db.url().clone() else {
            panic!("not SQLite")
        };
        let folder = file.parent().unwrap().to_path_buf();
        let pool = db.migrated_pool(1).unwrap();
        drop(pool);
        assert!(folder.join("unit.db").exists());
        drop(db);
        assert!(!folder.exists());
    }
}
