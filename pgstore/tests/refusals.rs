//! A server that cannot keep what urna acknowledges, and a database that is not this
//! election's log in this schema version, are refused at open, each with the error that names
//! its cause — and refusing changes nothing.

mod common;

use common::{create, entries, identity, refs, sequencer};
use urna_pgcluster::{Cluster, DATABASE, USER};
use urna_pgstore::{
    Durability, Identity, OpenError, Options, PgStore, SettingsError, MIGRATE_FROM_2,
};

fn open(url: &str) -> Result<PgStore, OpenError> {
    PgStore::open(url, identity(), create())
}

/// How a case breaks the server, and how it is put back.
enum Break {
    /// SQL run as superuser on the primary, then SQL undoing it.
    Sql(&'static str, &'static str),
    /// `ALTER SYSTEM SET name = value` and a reload, then `RESET`.
    System(&'static str, &'static str, &'static str),
    /// Extra connection parameters in the URL.
    Url(&'static str),
    /// The standby is killed, then started again.
    KillStandby,
}

#[test]
fn misconfigured_servers_are_refused_by_cause() {
    let mut cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    // A log to find intact afterwards.
    let s = sequencer(&url);
    s.append(0, &refs(&entries("before", 0, 3, 100)))
        .expect("append");
    drop(s);
    let cases: &[(&str, Break, &str)] = &[
        (
            "synchronous_commit = local for urna's role: COMMIT returns before any standby has it",
            Break::Sql(
                "ALTER ROLE urna SET synchronous_commit = local",
                "ALTER ROLE urna RESET synchronous_commit",
            ),
            "pg-synchronous-commit",
        ),
        (
            "synchronous_commit = off asked for in the URL",
            Break::Url("options=-c%20synchronous_commit%3Doff"),
            "pg-synchronous-commit",
        ),
        (
            "synchronous_commit = off for the database",
            Break::Sql(
                "ALTER DATABASE urna SET synchronous_commit = off",
                "ALTER DATABASE urna RESET synchronous_commit",
            ),
            "pg-synchronous-commit",
        ),
        (
            "no synchronous_standby_names: replication is asynchronous",
            Break::System("synchronous_standby_names", "''", ""),
            "pg-no-synchronous-standby-names",
        ),
        (
            "synchronous_standby_names names no connected standby",
            Break::System(
                "synchronous_standby_names",
                "'ANY 1 (elsewhere)'",
                "ANY 1 (elsewhere)",
            ),
            "pg-no-synchronous-standby",
        ),
        (
            "the synchronous standby is down",
            Break::KillStandby,
            "pg-no-synchronous-standby",
        ),
        (
            "fsync = off: nothing survives a crash",
            Break::System("fsync", "off", "off"),
            "pg-fsync-off",
        ),
        (
            "urna's role cannot see pg_stat_replication's state",
            Break::Sql("REVOKE pg_monitor FROM urna", "GRANT pg_monitor TO urna"),
            "pg-cannot-see-standbys",
        ),
    ];
    for (name, how, code) in cases {
        let p = cluster.primary();
        let mut case_url = url.clone();
        match how {
            Break::Sql(apply, _) => {
                cluster
                    .superuser_on(p, DATABASE)
                    .unwrap()
                    .batch_execute(apply)
                    .unwrap();
            }
            Break::System(setting, value, shown) => {
                cluster.alter_system(p, setting, value).unwrap();
                cluster.wait_setting(p, setting, shown).unwrap();
            }
            Break::Url(extra) => case_url = format!("{url}&{extra}"),
            Break::KillStandby => cluster.kill(1).unwrap(),
        }
        let got = open(&case_url);
        match &got {
            Err(e) => assert_eq!(e.code(), *code, "{name}: {e}"),
            Ok(_) => panic!("{name}: opened"),
        }
        match how {
            Break::Sql(_, undo) => {
                cluster
                    .superuser_on(p, DATABASE)
                    .unwrap()
                    .batch_execute(undo)
                    .unwrap();
            }
            Break::System(setting, _, _) => {
                let mut su = cluster.superuser(p).unwrap();
                su.batch_execute(&format!("ALTER SYSTEM RESET {setting}"))
                    .unwrap();
                su.batch_execute("SELECT pg_reload_conf()").unwrap();
                let original = if *setting == "fsync" {
                    "on".to_string()
                } else {
                    "ANY 1 (node0, node1)".to_string()
                };
                cluster.wait_setting(p, setting, &original).unwrap();
            }
            Break::Url(_) => {}
            Break::KillStandby => {
                cluster.restart(1).unwrap();
                cluster.wait_sync().unwrap();
            }
        }
    }
    // The messages say what to do.
    let e = SettingsError::CannotSeeStandbys { user: USER.into() };
    assert!(e.to_string().contains("GRANT pg_monitor TO urna"));
    // Nothing was changed by any refusal, and the server, put right, is accepted.
    let s = open(&url).expect("open once put right");
    assert_eq!(s.refresh_len().unwrap(), 3);
    assert!(s.guarantee().unwrap().to_string().contains("node1"));
}

#[test]
fn settings_changed_while_running_fail_the_append() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 2, 100))).unwrap();
    let p = cluster.primary();
    cluster
        .alter_system(p, "synchronous_standby_names", "''")
        .unwrap();
    cluster
        .wait_setting(p, "synchronous_standby_names", "")
        .unwrap();
    let e = s.append(2, &refs(&entries("a", 2, 2, 100))).unwrap_err();
    assert_eq!(e.code(), "pg-no-synchronous-standby-names", "{e}");
    assert!(!e.may_have_appended());
    assert_eq!(s.refresh_len().unwrap(), 2, "nothing was written");
}

#[test]
fn single_machine_only_when_asked() {
    let cluster = Cluster::builder()
        .standbys(0)
        .synchronous_standby_names("")
        .start()
        .expect("cluster");
    let url = cluster.url();
    let e = open(&url).err().expect("refused");
    assert!(
        matches!(e, OpenError::Settings(SettingsError::NoStandbyNames)),
        "{e}"
    );
    let s = PgStore::open(
        &url,
        identity(),
        Options {
            durability: Durability::SingleMachine,
            ..create()
        },
    )
    .expect("single machine, asked for");
    let g = s.guarantee().unwrap().to_string();
    assert!(g.starts_with("SINGLE MACHINE"), "{g}");
    assert!(s.try_acquire_lease().unwrap());
    s.append(0, &refs(&entries("solo", 0, 4, 100))).unwrap();
    assert_eq!(s.refresh_len().unwrap(), 4);
    // Even alone, a server that does not flush its commits is refused.
    cluster
        .superuser(0)
        .unwrap()
        .batch_execute("ALTER ROLE urna SET synchronous_commit = off")
        .unwrap();
    let e = PgStore::open(
        &url,
        identity(),
        Options {
            durability: Durability::SingleMachine,
            ..create()
        },
    )
    .err()
    .expect("refused");
    assert_eq!(e.code(), "pg-synchronous-commit", "{e}");
}

#[test]
fn databases_that_are_not_this_elections_log_are_refused() {
    let cluster = Cluster::start(1).expect("cluster");
    // Each case gets its own database, prepared by superuser SQL after (optionally) creating
    // this election's log in it; then this election opens it.
    struct Case {
        name: &'static str,
        create_log: bool,
        sql: &'static str,
        as_who: Identity,
        code: &'static str,
    }
    let other_key = Identity {
        board_key: [8u8; 32],
        ..identity()
    };
    let other_election = Identity {
        origin: "urna.example/election/another".into(),
        ..identity()
    };
    let cases = [
        Case {
            name: "a newer schema version",
            create_log: true,
            sql: "UPDATE urna.meta SET schema_version = 4",
            as_who: identity(),
            code: "pg-schema-version",
        },
        Case {
            name: "an older schema version (before urna.snapshots), not migrated",
            create_log: true,
            sql: "DROP TABLE urna.snapshots; UPDATE urna.meta SET schema_version = 1",
            as_who: identity(),
            code: "pg-schema-version",
        },
        Case {
            name: "schema version 2 (before the leaf hashes in the primary key), not migrated",
            create_log: true,
            sql: TO_VERSION_2,
            as_who: identity(),
            code: "pg-schema-version",
        },
        Case {
            name: "schema version 3 without its snapshots table",
            create_log: true,
            sql: "DROP TABLE urna.snapshots",
            as_who: identity(),
            code: "pg-not-urna-schema",
        },
        Case {
            name: "another election's log",
            create_log: true,
            sql: "",
            as_who: other_election,
            code: "pg-other-election",
        },
        Case {
            name: "this election under another board key",
            create_log: true,
            sql: "",
            as_who: other_key,
            code: "pg-other-board-key",
        },
        Case {
            name: "a schema named urna that is something else",
            create_log: false,
            sql: "CREATE SCHEMA urna; CREATE TABLE urna.things (x int)",
            as_who: identity(),
            code: "pg-not-urna-schema",
        },
        Case {
            name: "a meta table with two rows",
            create_log: true,
            sql: "ALTER TABLE urna.meta DROP CONSTRAINT meta_pkey; \
                  INSERT INTO urna.meta (singleton, schema_version, origin, board_key) \
                  SELECT singleton, schema_version, origin, board_key FROM urna.meta",
            as_who: identity(),
            code: "pg-not-urna-schema",
        },
        Case {
            name: "a head past the entries",
            create_log: true,
            sql: "UPDATE urna.head SET len = len + 1",
            as_who: identity(),
            code: "pg-damaged",
        },
        Case {
            name: "entries past the head",
            create_log: true,
            sql: "UPDATE urna.head SET len = len - 1",
            as_who: identity(),
            code: "pg-damaged",
        },
    ];
    for (k, case) in cases.iter().enumerate() {
        let db = format!("case{k}");
        cluster.create_database(&db).unwrap();
        let url = cluster.url_for(&db);
        if case.create_log {
            let s = sequencer(&url);
            s.append(0, &refs(&entries("x", 0, 2, 50))).unwrap();
        }
        if !case.sql.is_empty() {
            cluster
                .superuser_on(cluster.primary(), &db)
                .unwrap()
                .batch_execute(case.sql)
                .unwrap();
        }
        match PgStore::open(&url, case.as_who.clone(), create()) {
            Err(e) => assert_eq!(e.code(), case.code, "{}: {e}", case.name),
            Ok(_) => panic!("{}: opened", case.name),
        }
    }
    // A database without a log is created only when asked.
    cluster.create_database("empty").unwrap();
    let url = cluster.url_for("empty");
    let e = PgStore::open(&url, identity(), Options::default())
        .err()
        .expect("no log");
    assert!(matches!(e, OpenError::NoLog), "{e}");
    let e = PgStore::open(&url, identity(), create()).map(|_| ());
    assert!(e.is_ok(), "created");
    let e = PgStore::open("postgresql://[::1", identity(), create())
        .err()
        .expect("bad url");
    assert_eq!(e.code(), "pg-url");
}

/// A version 3 log taken back to version 2's layout: the primary key without the leaf hashes,
/// autovacuum's defaults.
const TO_VERSION_2: &str = "
    ALTER TABLE urna.entries DROP CONSTRAINT entries_pkey,
        ADD CONSTRAINT entries_pkey PRIMARY KEY (idx);
    ALTER TABLE urna.entries RESET (autovacuum_vacuum_insert_threshold,
        autovacuum_vacuum_insert_scale_factor);
    UPDATE urna.meta SET schema_version = 2";

/// How the entries' primary key is defined, and the table's storage options.
fn layout(cluster: &Cluster, db: &str) -> (String, Vec<String>) {
    let mut su = cluster.superuser_on(cluster.primary(), db).unwrap();
    let row = su
        .query_one(
            "SELECT pg_get_indexdef('urna.entries_pkey'::regclass), \
             coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'urna.entries'::regclass",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// A version 2 database (`specs/storage.md` §3) is refused until a person runs the migration
/// the spec gives ([`MIGRATE_FROM_2`]); migrated, it opens with everything it held, and its
/// layout is a new database's.
#[test]
fn a_version_2_log_is_refused_then_migrated() {
    let cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    let a = entries("a", 0, 12, 200);
    let want: Vec<[u8; 32]> = {
        let s = sequencer(&url);
        s.append(0, &refs(&a)).unwrap();
        assert!(s.put_snapshot(10, b"ten").unwrap());
        s.leaves(0, 12).unwrap()
    };
    let fresh = layout(&cluster, DATABASE);
    assert!(fresh.0.contains("INCLUDE (leaf)"), "{fresh:?}");
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).unwrap();
    su.batch_execute(TO_VERSION_2).unwrap();
    let e = open(&url).err().expect("a version 2 log refused");
    assert_eq!(e.code(), "pg-schema-version", "{e}");
    assert!(e.to_string().contains("migration"), "{e}");
    su.batch_execute(MIGRATE_FROM_2).unwrap();
    su.batch_execute("VACUUM (ANALYZE) urna.entries").unwrap();
    assert_eq!(layout(&cluster, DATABASE), fresh, "migrated as created");
    let s = sequencer(&url);
    assert_eq!(s.read(0, 12).unwrap(), a);
    assert_eq!(s.leaves(0, 12).unwrap(), want);
    let stored = s
        .snapshot_with_leaves()
        .unwrap()
        .expect("the snapshot kept");
    assert_eq!((stored.size, &stored.bytes[..]), (10, &b"ten"[..]));
    assert_eq!(stored.leaves.unwrap(), want[..10]);
    s.append(12, &refs(&entries("a", 12, 2, 200))).unwrap();
    assert_eq!(s.leaves(0, 14).unwrap().len(), 14);
}
