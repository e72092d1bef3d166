//! Call load: two-leg calls per second through the real `obelus` binary
//! (sipp `uac` -> Obelus `Dial(PJSIP/102)` -> sipp `uas`, no RTP), against
//! the same sipp pair calling each other directly in the same run.
//!
//! Reported per rate step: calls completed and failed, the rate achieved,
//! and Obelus's CPU per call (utime+stime from /proc, so the figure is CPU
//! per unit of work, not a bare time). The direct sipp run is the
//! reference: what the load generator itself sustains on this machine.
//!
//! Run: `cargo bench -p obelus --bench call_load` (needs `sipp`:
//! `apt-get install sip-tester`). `CALL_LOAD_RATES=500,1000` and
//! `CALL_LOAD_SECONDS=5` change the steps.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::{Guard, TICKS_PER_SECOND, cpu_ticks, free_port, sip_bound, sipp_stat, start_obelus};

fn start(dir: &Path, sip_port: u16, uas_port: u16) -> Guard {
    let files = [
        (
            "modules.conf",
            "[modules]\nautoload=yes\nnoload => manager\nnoload => http\n".to_owned(),
        ),
        (
            "rtp.conf",
            "[general]\nrtpstart=20000\nrtpend=60000\n".to_owned(),
        ),
        ("sorcery.conf", String::new()),
        ("extconfig.conf", String::new()),
        (
            "extensions.conf",
            "[load]\nexten => 102,1,Dial(PJSIP/102)\n".to_owned(),
        ),
        (
            "pjsip.conf",
            format!(
                "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{sip_port}\n\n[sipp]\ntype=endpoint\ncontext=load\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n[102]\ntype=endpoint\ncontext=load\ndisallow=all\nallow=ulaw\naors=102\ndirect_media=no\n\n[102]\ntype=aor\ncontact=sip:102@127.0.0.1:{uas_port}\n"
            ),
        ),
    ];
    let guard = start_obelus(dir, &files, sip_bound(sip_port));
    std::thread::sleep(Duration::from_millis(300));
    guard
}

fn sipp_uas(dir: &Path, port: u16) -> Guard {
    Guard(
        Command::new("sipp")
            .current_dir(dir)
            .args([
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-nostdin",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp (apt-get install sip-tester)"),
    )
}

/// Runs `calls` uac calls at `rate` to `target`; returns (successful,
/// failed, elapsed).
fn sipp_uac(dir: &Path, target: &str, rate: u32, calls: u32) -> (u64, u64, Duration) {
    let stats = dir.join(format!("uac_{rate}_{}.csv", free_port()));
    let started = Instant::now();
    let status = Command::new("sipp")
        .current_dir(dir)
        .arg(target)
        .args([
            "-sn",
            "uac",
            "-s",
            "102",
            "-i",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
        ])
        .args([
            "-r",
            &rate.to_string(),
            "-m",
            &calls.to_string(),
            "-l",
            "100000",
        ])
        .args([
            "-nostdin",
            "-timeout",
            "120s",
            "-trace_stat",
            "-fd",
            "1000",
            "-stf",
        ])
        .arg(&stats)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let elapsed = started.elapsed();
    if !status.success() {
        eprintln!("call_load: sipp reported failed calls at {rate}/s");
    }
    let column = |name: &str| sipp_stat(&stats, name);
    (
        column("SuccessfulCall(C)"),
        column("FailedCall(C)"),
        elapsed,
    )
}

fn main() {
    if Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("call_load: sipp is not installed (apt-get install sip-tester); skipped");
        return;
    }
    let rates: Vec<u32> = std::env::var("CALL_LOAD_RATES")
        .unwrap_or_else(|_| "500,1000,2000,4000".to_owned())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let seconds: u32 = std::env::var("CALL_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    println!("call_load: {seconds} s per step, rates {rates:?} calls/s");
    println!(
        "{:<28} {:>6} {:>9} {:>7} {:>10} {:>14}",
        "run", "rate", "completed", "failed", "achieved", "obelus ms/call"
    );
    for &rate in &rates {
        let calls = rate * seconds;
        // Reference: sipp to sipp, no Obelus.
        let uas_port = free_port();
        let uas = sipp_uas(dir.path(), uas_port);
        std::thread::sleep(Duration::from_millis(200));
        let (ok, failed, elapsed) =
            sipp_uac(dir.path(), &format!("127.0.0.1:{uas_port}"), rate, calls);
        drop(uas);
        println!(
            "{:<28} {:>6} {:>9} {:>7} {:>10.0} {:>14}",
            "sipp -> sipp (reference)",
            rate,
            ok,
            failed,
            ok as f64 / elapsed.as_secs_f64(),
            "-"
        );
        // Through Obelus.
        let run = tempfile::tempdir().unwrap();
        let sip_port = free_port();
        let uas_port = free_port();
        let uas = sipp_uas(run.path(), uas_port);
        let obelus = start(run.path(), sip_port, uas_port);
        let before = cpu_ticks(obelus.0.id());
        let (ok, failed, elapsed) =
            sipp_uac(run.path(), &format!("127.0.0.1:{sip_port}"), rate, calls);
        let used = cpu_ticks(obelus.0.id()).saturating_sub(before) as f64 / TICKS_PER_SECOND;
        drop(obelus);
        drop(uas);
        println!(
            "{:<28} {:>6} {:>9} {:>7} {:>10.0} {:>14.3}",
            "sipp -> obelus -> sipp",
            rate,
            ok,
            failed,
            ok as f64 / elapsed.as_secs_f64(),
            if ok > 0 {
                used * 1000.0 / ok as f64
            } else {
                f64::NAN
            }
        );
    }
}
