//! What the server must guarantee before urna acknowledges anything it committed, checked at
//! every connection (`specs/storage.md` §2).
//!
//! With [`Durability::Replicated`] a COMMIT must not return until a standby has the commit
//! record on disk (or, with `remote_write`, in its operating system):
//! - `synchronous_commit` is `on`, `remote_write` or `remote_apply` for urna's session (the
//!   value the server, database and role settings give it; urna never sets it itself, so
//!   that a misconfigured server is refused rather than papered over);
//! - `synchronous_standby_names` is not empty;
//! - at least one standby is connected with `sync_state` `sync` or `quorum` (otherwise every
//!   COMMIT would wait; refusing says why at once), which needs `pg_monitor` to see;
//! - `fsync` is on.
//!
//! The first two are checked again inside every append transaction, so that a server
//! reconfigured while urna runs (say `synchronous_standby_names = ''` and a reload) makes the
//! append fail instead of returning a commit no standby has.

use postgres::Client;

use crate::error::{SettingsError, StandbyState};

/// What a committed append is guaranteed to survive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// On this server's disk and on at least one synchronous standby: a crash of any one
    /// machine loses nothing acknowledged. The default, and the only one for an election with
    /// more than one machine.
    #[default]
    Replicated,
    /// On this server's disk only: losing that disk loses acknowledged entries. For a
    /// single-machine election or a demonstration, chosen explicitly.
    SingleMachine,
}

/// The guarantee the server's settings gave when the store connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarantee {
    pub durability: Durability,
    pub synchronous_commit: String,
    pub synchronous_standby_names: String,
    /// The standbys that were synchronous (`sync` or `quorum`) at that moment.
    pub synchronous_standbys: Vec<String>,
}

impl std::fmt::Display for Guarantee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.durability {
            Durability::Replicated => write!(
                f,
                "every acknowledged entry is on the primary and on a synchronous standby (synchronous_commit = {}, synchronous_standby_names = '{}', synchronous now: {})",
                self.synchronous_commit,
                self.synchronous_standby_names,
                self.synchronous_standbys.join(", ")
            ),
            Durability::SingleMachine => write!(
                f,
                "SINGLE MACHINE: acknowledged entries are on this PostgreSQL server's disk only, and are lost if that disk is (synchronous_commit = {})",
                self.synchronous_commit
            ),
        }
    }
}

const REPLICATED_COMMIT: &[&str] = &["on", "remote_write", "remote_apply"];

/// Checks the two settings a COMMIT's wait depends on, as they are in this session now.
pub(crate) fn check_commit_settings(
    durability: Durability,
    synchronous_commit: &str,
    standby_names: &str,
) -> Result<(), SettingsError> {
    match durability {
        Durability::Replicated => {
            if !REPLICATED_COMMIT.contains(&synchronous_commit) {
                return Err(SettingsError::WeakCommit {
                    value: synchronous_commit.to_string(),
                    required: "a synchronous standby has the commit",
                    accepted: "on, remote_write or remote_apply",
                });
            }
            if standby_names.trim().is_empty() {
                return Err(SettingsError::NoStandbyNames);
            }
        }
        Durability::SingleMachine => {
            if synchronous_commit == "off" {
                return Err(SettingsError::WeakCommit {
                    value: synchronous_commit.to_string(),
                    required: "the commit is on disk",
                    accepted: "any value but off",
                });
            }
        }
    }
    Ok(())
}

/// Checks the server's settings for `durability`.
pub(crate) fn check(
    client: &mut Client,
    durability: Durability,
) -> Result<Result<Guarantee, SettingsError>, postgres::Error> {
    let row = client.query_one(
        "SELECT current_setting('synchronous_commit'), \
                current_setting('synchronous_standby_names'), \
                current_setting('fsync'), \
                current_user::text, \
                pg_has_role('pg_read_all_stats', 'USAGE')",
        &[],
    )?;
    let synchronous_commit: String = row.get(0);
    let names: String = row.get(1);
    let fsync: String = row.get(2);
    let user: String = row.get(3);
    let can_see: bool = row.get(4);
    if fsync != "on" {
        return Ok(Err(SettingsError::FsyncOff));
    }
    if let Err(e) = check_commit_settings(durability, &synchronous_commit, &names) {
        return Ok(Err(e));
    }
    let mut synchronous_standbys = Vec::new();
    if durability == Durability::Replicated {
        if !can_see {
            return Ok(Err(SettingsError::CannotSeeStandbys { user }));
        }
        let rows = client.query(
            "SELECT application_name, COALESCE(state, ''), COALESCE(sync_state, '') \
             FROM pg_stat_replication ORDER BY application_name",
            &[],
        )?;
        let connected: Vec<StandbyState> = rows
            .iter()
            .map(|r| StandbyState {
                application_name: r.get(0),
                state: r.get(1),
                sync_state: r.get(2),
            })
            .collect();
        synchronous_standbys = connected
            .iter()
            .filter(|s| {
                s.state == "streaming" && matches!(s.sync_state.as_str(), "sync" | "quorum")
            })
            .map(|s| s.application_name.clone())
            .collect();
        if synchronous_standbys.is_empty() {
            return Ok(Err(SettingsError::NoSyncStandby { names, connected }));
        }
    }
    Ok(Ok(Guarantee {
        durability,
        synchronous_commit,
        synchronous_standby_names: names,
        synchronous_standbys,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_settings() {
        let r = Durability::Replicated;
        for ok in ["on", "remote_write", "remote_apply"] {
            assert_eq!(check_commit_settings(r, ok, "ANY 1 (a, b)"), Ok(()));
        }
        for weak in ["local", "off"] {
            let e = check_commit_settings(r, weak, "ANY 1 (a)").unwrap_err();
            assert_eq!(e.code(), "pg-synchronous-commit");
        }
        assert_eq!(
            check_commit_settings(r, "on", " "),
            Err(SettingsError::NoStandbyNames)
        );
        let s = Durability::SingleMachine;
        assert_eq!(check_commit_settings(s, "local", ""), Ok(()));
        assert_eq!(
            check_commit_settings(s, "off", "").unwrap_err().code(),
            "pg-synchronous-commit"
        );
    }
}
