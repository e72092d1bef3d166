//! Endpoint identification by source address (`type=identify`, `match=`):
//! a trunk's calls are taken without a challenge when they come from its
//! network, and challenged (as unknown) when no identify covers them.

use std::process::{Command, Stdio};

use crate::common::{ConfDir, free_port};

fn pjsip_conf(port: u16, network: &str) -> String {
    format!(
        "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
         [trunk]\ntype=endpoint\ncontext=from-trunk\ndisallow=all\nallow=ulaw\n\n\
         [trunk]\ntype=identify\nendpoint=trunk\nmatch={network}\n"
    )
}

/// sipp's built-in `uac` call (INVITE, 200, ACK, BYE) from `sipp@127.0.0.1`.
fn uac_call(port: u16) -> bool {
    let dir = tempfile::tempdir().unwrap();
    Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "-sn",
            "uac",
            "-s",
            "700",
            "-i",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
        ])
        .args(["-m", "1", "-d", "500", "-timeout", "15s", "-nostdin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sipp")
        .success()
}

#[test]
fn a_trunk_is_identified_by_its_source_address() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port, "127.0.0.0/8"));
    conf.write(
        "extensions.conf",
        "[from-trunk]\nexten => 700,1,Answer()\n same => n,Wait(10)\n",
    );
    let start = 23000 + (std::process::id() % 100) as u16 * 100;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 98),
    );
    let _daemon = conf.start_foreground();
    assert!(
        uac_call(port),
        "a call from the trunk's network was not taken"
    );
    let (_, out, _) = conf.rx("pjsip show identifies");
    assert!(out.contains("trunk"), "{out}");
    assert!(out.contains("127.0.0.0/8"), "{out}");
}

#[test]
fn outside_the_trunks_network_a_call_is_challenged() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port, "192.0.2.0/24"));
    conf.write(
        "extensions.conf",
        "[from-trunk]\nexten => 700,1,Answer()\n same => n,Wait(10)\n",
    );
    let _daemon = conf.start_foreground();
    assert!(!uac_call(port), "an unidentified call went through");
}
