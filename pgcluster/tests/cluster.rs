//! The harness does what it says: standbys stream synchronously, a killed primary's standby
//! is promoted with the committed rows, and a dead node rejoins as a standby.

use urna_pgcluster::{postgres, Cluster, DATABASE};

fn count(c: &mut postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM t", &[]).unwrap().get(0)
}

#[test]
fn kill_promote_rebuild() {
    let mut cl = Cluster::start(2).unwrap();
    let standbys = cl.superuser(cl.primary()).unwrap().query(
        "SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1",
        &[],
    );
    let standbys: Vec<(String, String)> = standbys
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        standbys,
        [
            ("node1".into(), "quorum".into()),
            ("node2".into(), "quorum".into())
        ]
    );
    let mut app = postgres::Client::connect(&cl.url(), postgres::NoTls).unwrap();
    app.batch_execute("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 10)")
        .unwrap();
    cl.kill(0).unwrap();
    assert!(
        app.query_one("SELECT 1", &[]).is_err(),
        "the connection died with the primary"
    );
    let new = cl.failover().unwrap();
    assert_ne!(new, 0);
    cl.wait_sync().unwrap();
    let mut app = postgres::Client::connect(
        &format!("{}&target_session_attrs=read-write", cl.url()),
        postgres::NoTls,
    )
    .unwrap();
    assert_eq!(count(&mut app), 10);
    app.batch_execute("INSERT INTO t VALUES (11)").unwrap();
    cl.rebuild(0).unwrap();
    cl.wait_streaming(2).unwrap();
    let mut old = cl.superuser_on(0, DATABASE).unwrap();
    let in_recovery: bool = old
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap()
        .get(0);
    assert!(in_recovery, "the old primary came back as a standby");
}
