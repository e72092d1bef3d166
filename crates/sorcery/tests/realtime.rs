//! The seed tutorial's realtime PJSIP setup, end to end, on SQLite,
//! PostgreSQL and MariaDB: schema upgrade, rows inserted with plain SQL,
//! `sorcery.conf` + `extconfig.conf`, and sorcery serving typed endpoints.

mod common;

use common::{Backend, Fixture};
use obelus_realtime::Criterion;
use obelus_sorcery::{EventKind, Origin};

async fn suite(backend: Backend) {
    let fx = Fixture::new(backend).await;
    fx.upgrade().await;
    // A hand-made table may hold anything in a column; make direct_media free text
    // so that the bad-row case below can be stored at all on every database.
    match backend {
        Backend::Postgres => {
            fx.sql("ALTER TABLE ps_endpoints ALTER COLUMN direct_media TYPE VARCHAR(40) USING direct_media::text").await
        }
        Backend::MariaDb => fx.sql("ALTER TABLE ps_endpoints MODIFY direct_media VARCHAR(40)").await,
        Backend::Sqlite => {}
    }
    fx.sql("INSERT INTO ps_aors (id, max_contacts) VALUES ('101', 1), ('102', 1)")
        .await;
    fx.sql("INSERT INTO ps_auths (id, auth_type, password, username) VALUES ('101', 'userpass', '101', '101'), ('102', 'userpass', '102', '102')").await;
    fx.sql("INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media) VALUES ('101', 'transport-udp', '101', '101', 'testing', 'all', 'g722', 'no'), ('102', 'transport-udp', '102', '102', 'testing', 'all', 'g722', 'no')").await;
    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint=realtime,ps_endpoints\nauth=realtime,ps_auths\naor=realtime,ps_aors\n",
    );
    let (sorcery, problems) = fx.sorcery(fx.service()).await;
    assert!(problems.is_empty(), "{problems:?}");
    let mut events = sorcery.subscribe();

    // Both endpoints, with every field: the row's values, defaults for the rest.
    let e101 = sorcery
        .retrieve_by_id("endpoint", "101")
        .await
        .unwrap()
        .expect("endpoint 101");
    assert_eq!(e101.str("transport"), Some("transport-udp"));
    assert_eq!(e101.list("aors"), ["101"]);
    assert_eq!(e101.list("auth"), ["101"]);
    assert_eq!(e101.str("context"), Some("testing"));
    assert_eq!(e101.list("allow"), ["g722"], "disallow=all then allow=g722");
    assert_eq!(e101.bool("direct_media"), Some(false));
    assert_eq!(e101.str("dtmf_mode"), Some("rfc4733"), "default");
    assert_eq!(e101.bool("force_rport"), Some(true), "default");
    assert_eq!(e101.uint("timers_sess_expires"), Some(1800), "default");
    assert_eq!(e101.str("callerid"), None, "no default: unset");
    let all = sorcery.retrieve_all("endpoint").await.unwrap();
    let ids: Vec<&str> = all.iter().map(|o| o.id()).collect();
    assert_eq!(ids, ["101", "102"]);
    assert_eq!(all[1].list("aors"), ["102"]);
    let auth = sorcery
        .retrieve_by_id("auth", "101")
        .await
        .unwrap()
        .expect("auth 101");
    assert_eq!(auth.str("auth_type"), Some("userpass"));
    assert_eq!(
        (auth.str("username"), auth.str("password")),
        (Some("101"), Some("101"))
    );
    assert_eq!(auth.uint("nonce_lifetime"), Some(32));
    let aor = sorcery
        .retrieve_by_id("aor", "102")
        .await
        .unwrap()
        .expect("aor 102");
    assert_eq!(aor.uint("max_contacts"), Some(1));
    assert_eq!(aor.uint("default_expiration"), Some(3600));
    assert!(
        sorcery
            .retrieve_by_id("endpoint", "999")
            .await
            .unwrap()
            .is_none()
    );

    // A row inserted afterwards is there without any reload.
    fx.sql("INSERT INTO ps_endpoints (id, context, allow) VALUES ('104', 'late', 'ulaw,alaw')")
        .await;
    let e104 = sorcery
        .retrieve_by_id("endpoint", "104")
        .await
        .unwrap()
        .expect("new row seen at once");
    assert_eq!(e104.str("context"), Some("late"));
    assert_eq!(e104.list("allow"), ["ulaw", "alaw"]);

    // NULL = not set: defaults apply, in single and multiple retrieval.
    fx.sql("INSERT INTO ps_endpoints (id, context, direct_media, dtmf_mode, max_audio_streams) VALUES ('105', NULL, NULL, NULL, NULL)").await;
    let e105 = sorcery
        .retrieve_by_id("endpoint", "105")
        .await
        .unwrap()
        .expect("105");
    assert_eq!(e105.str("context"), Some("default"));
    assert_eq!(e105.bool("direct_media"), Some(true));
    assert_eq!(e105.str("dtmf_mode"), Some("rfc4733"));
    assert_eq!(e105.uint("max_audio_streams"), Some(1));
    let many = sorcery.retrieve_by_prefix("endpoint", "10").await.unwrap();
    let m105 = many
        .iter()
        .find(|o| o.id() == "105")
        .expect("105 in multi retrieval");
    assert_eq!(**m105, *e105, "multi retrieval reads NULL as not set too");
    let by_fields = sorcery
        .retrieve_by_fields("endpoint", &[Criterion::eq("context", "testing").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        by_fields.iter().map(|o| o.id()).collect::<Vec<_>>(),
        ["101", "102"]
    );
    let regex = sorcery
        .retrieve_by_regex("endpoint", "^10[45]$")
        .await
        .unwrap();
    assert_eq!(
        regex.iter().map(|o| o.id()).collect::<Vec<_>>(),
        ["104", "105"]
    );

    // A bad value: reported with table, id and column; that row is skipped, the rest load.
    fx.sql("INSERT INTO ps_endpoints (id, direct_media) VALUES ('106', 'maybe')")
        .await;
    assert!(
        sorcery
            .retrieve_by_id("endpoint", "106")
            .await
            .unwrap()
            .is_none()
    );
    let all = sorcery.retrieve_all("endpoint").await.unwrap();
    assert_eq!(
        all.iter().map(|o| o.id()).collect::<Vec<_>>(),
        ["101", "102", "104", "105"]
    );
    let problem = sorcery.problems().into_iter().last().expect("reported");
    assert_eq!(
        problem.origin,
        Origin::Realtime {
            table: "ps_endpoints".into(),
            id: "106".into()
        }
    );
    assert_eq!(problem.field.as_deref(), Some("direct_media"));
    let text = problem.to_string();
    assert!(
        text.starts_with("table ps_endpoints, id 106, column direct_media: endpoint '106'"),
        "{text}"
    );

    // Writes go to the database and observers hear of them.
    let mut new = sorcery.alloc("endpoint", "201").unwrap();
    new.set("context", "made").unwrap();
    new.set("allow", "opus").unwrap();
    sorcery.create(new).await.unwrap();
    let back = sorcery
        .retrieve_by_id("endpoint", "201")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(back.str("context"), Some("made"));
    assert_eq!(back.list("allow"), ["opus"]);
    let mut changed = (*back).clone();
    changed.set("context", "changed").unwrap();
    sorcery.update(changed).await.unwrap();
    assert_eq!(
        sorcery
            .retrieve_by_id("endpoint", "201")
            .await
            .unwrap()
            .unwrap()
            .str("context"),
        Some("changed")
    );
    sorcery.delete("endpoint", "201").await.unwrap();
    assert!(
        sorcery
            .retrieve_by_id("endpoint", "201")
            .await
            .unwrap()
            .is_none()
    );
    let kinds: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| match e.kind {
            EventKind::Created(o) => format!("created {}", o.id()),
            EventKind::Updated(o) => format!("updated {}", o.id()),
            EventKind::Deleted(id) => format!("deleted {id}"),
            EventKind::Loaded => "loaded".into(),
        })
        .collect();
    assert_eq!(kinds, ["created 201", "updated 201", "deleted 201"]);
    fx.drop_database().await;
}

#[tokio::test]
async fn sqlite_realtime_endpoints() {
    suite(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_realtime_endpoints() {
    suite(Backend::Postgres).await;
}

#[tokio::test]
async fn mariadb_realtime_endpoints() {
    suite(Backend::MariaDb).await;
}

/// A family missing from extconfig.conf is an error naming the sorcery.conf line.
#[tokio::test]
async fn unmapped_family_and_unknown_wizard_name_their_line() {
    let fx = Fixture::new(Backend::Sqlite).await;
    fx.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint=realtime,ps_nothing\naor=magic,x\nauth=memory_cache\n",
    );
    let (sorcery, problems) = fx.sorcery(fx.service()).await;
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("sorcery.conf:2:") && t.contains("ps_nothing")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("sorcery.conf:3:") && t.contains("unknown wizard 'magic'")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("sorcery.conf:4:") && t.contains("cache")),
        "{text:?}"
    );
    assert!(sorcery.mappings("endpoint").is_empty());
}
