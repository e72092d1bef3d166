//! Registration load: CPU time per authenticated REGISTER and memory per
//! registered contact, Obelus side by side with Kamailio in the same run.
//!
//! Both servers answer the same sipp scenario (`bench/sipp/register_users.xml`:
//! REGISTER, 401 digest challenge, REGISTER with credentials, 200), each
//! call as another user of 1000..N read from an injection file, at the same
//! offered rate. Obelus reads its N endpoints, auths (`auth_type=userpass`)
//! and AORs (`max_contacts=1`, `remove_existing=yes`) from `pjsip.conf` and
//! stores contacts in astdb (the defaults an Asterisk user starts from);
//! Kamailio runs `bench/kamailio/kamailio.cfg` (the standard `subscriber`
//! table with plaintext passwords, held in an htable; usrloc in memory).
//!
//! Reported per rate step and server: registrations completed and failed,
//! the rate achieved, and the server's CPU per registration (one 401 and
//! one 200 transaction), summed over every process of the server (Kamailio
//! forks UDP workers and timers) from /proc: the exact run time of the
//! live threads (`schedstat`) where it agrees with utime+stime, and the
//! 10 ms ticks of utime+stime where a thread ended during the step. Also
//! the server's CPU per second while idle, just before the step. Each step
//! starts a fresh server, so every registration creates a new binding.
//!
//! Memory: two equal batches of distinct contacts into one server; after
//! each, the bench waits for the server's transactions to end (Timer J) and
//! reads the proportional set size (`Pss` of `/proc/PID/smaps_rollup`,
//! summed over the processes, so Kamailio's shared memory counts once),
//! per contact of the batch. For Obelus it then has gdb call glibc's
//! `malloc_trim(0)` in the daemon and reads Pss again: the live figure,
//! without the free heap glibc keeps after a burst; the next batch starts
//! from it. Both batches are printed: the second is the cost of one more
//! contact, the first also pays for what start-up freed or the first burst
//! left allocated.
//!
//! Run: `cargo bench -p obelus --bench register_load` (needs `sipp`:
//! `apt-get install sip-tester`; without `kamailio` its rows are skipped,
//! without `gdb` the live memory figure). `REGISTER_LOAD_RATES=500,1000`,
//! `REGISTER_LOAD_SECONDS=10`, `REGISTER_LOAD_CONTACTS=20000` (per memory
//! batch, 0 skips the memory part), `REGISTER_LOAD_MEMORY_RATE=1000`,
//! `REGISTER_LOAD_SETTLE_SECONDS=35`, `REGISTER_LOAD_KAMAILIO_CHILDREN=2` and `REGISTER_LOAD_KAMAILIO_MEMORY=tlsf`
//! (Kamailio's memory manager, `-x`/`-X`; unset: the build's default)
//! change the run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::{
    Guard, TICKS_PER_SECOND, cpu_ticks, free_port, sip_bound, sipp_stat, start_obelus_within,
};

/// The first user; users are `FIRST_USER..FIRST_USER + count`.
const FIRST_USER: u32 = 1000;

/// Realm of both servers' challenges (Obelus's default, set in Kamailio's).
const REALM: &str = "asterisk";

/// The run's knobs, from the environment.
struct Settings {
    rates: Vec<u32>,
    seconds: u32,
    contacts: u32,
    memory_rate: u32,
    settle: Duration,
    kamailio_children: u32,
    /// Kamailio's memory manager for shm and pkg (`-x`/`-X`: qm, fm or
    /// tlsf); `None` keeps the build's default (q_malloc in Debian's).
    kamailio_memory: Option<String>,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: u32| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Settings {
            rates: std::env::var("REGISTER_LOAD_RATES")
                .unwrap_or_else(|_| "500,1000".to_owned())
                .split(',')
                .filter_map(|r| r.trim().parse().ok())
                .filter(|r| *r > 0)
                .collect(),
            seconds: number("REGISTER_LOAD_SECONDS", 10).max(1),
            contacts: number("REGISTER_LOAD_CONTACTS", 20_000),
            memory_rate: number("REGISTER_LOAD_MEMORY_RATE", 1000).max(1),
            settle: Duration::from_secs(number("REGISTER_LOAD_SETTLE_SECONDS", 35).into()),
            kamailio_children: number("REGISTER_LOAD_KAMAILIO_CHILDREN", 2).max(1),
            kamailio_memory: std::env::var("REGISTER_LOAD_KAMAILIO_MEMORY")
                .ok()
                .filter(|m| !m.trim().is_empty()),
        }
    }

    /// How many users both servers must know.
    fn users(&self) -> u32 {
        let steps = self
            .rates
            .iter()
            .map(|r| r * self.seconds)
            .max()
            .unwrap_or(0);
        steps.max(2 * self.contacts)
    }
}

fn password(user: u32) -> String {
    format!("pw-{user}")
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(32), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Obelus's `pjsip.conf`: one endpoint, auth and AOR per user.
fn pjsip_conf(port: u16, users: u32) -> String {
    let mut conf =
        format!("[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n");
    for user in FIRST_USER..FIRST_USER + users {
        let _ = write!(
            conf,
            "[{user}]\ntype=endpoint\ncontext=default\ndisallow=all\nallow=ulaw\nauth={user}-auth\naors={user}\n\n\
[{user}-auth]\ntype=auth\nauth_type=userpass\nusername={user}\npassword={}\n\n\
[{user}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n\n",
            password(user)
        );
    }
    conf
}

/// Kamailio's db_text directory: the standard `subscriber` table (with
/// plaintext passwords and the HA1 columns filled as kamctl would) and the
/// `version` table.
fn kamailio_db(dir: &Path, users: u32) -> PathBuf {
    let db = dir.join("kamailio-db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(
        db.join("version"),
        "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n",
    )
    .unwrap();
    let mut table = String::from(
        "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) \n",
    );
    for user in FIRST_USER..FIRST_USER + users {
        let pw = password(user);
        let _ = writeln!(
            table,
            "{user}:{user}:{REALM}:{pw}:{}:{}",
            md5_hex(&format!("{user}:{REALM}:{pw}")),
            md5_hex(&format!("{user}@{REALM}:{REALM}:{pw}"))
        );
    }
    std::fs::write(db.join("subscriber"), table).unwrap();
    db
}

/// sipp's injection file for users `first..first + count`.
fn injection_file(dir: &Path, first: u32, count: u32) -> PathBuf {
    let path = dir.join(format!("users-{first}-{count}.csv"));
    let mut text = String::from("SEQUENTIAL\n");
    for user in first..first + count {
        let _ = writeln!(
            text,
            "{user};[authentication username={user} password={}]",
            password(user)
        );
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A server under test: its processes and how to stop it.
enum Server {
    Obelus(Guard),
    Kamailio(Child),
}

impl Server {
    /// The server's process and, for Kamailio, every process it forked.
    fn pids(&self) -> Vec<u32> {
        match self {
            Server::Obelus(guard) => vec![guard.0.id()],
            Server::Kamailio(child) => with_descendants(child.id()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Kamailio(child) = self {
            // SIGTERM lets Kamailio's main process stop its children; a
            // SIGKILL would leave them running on the port.
            let all = with_descendants(child.id());
            signal("TERM", &[child.id()]);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            signal("KILL", &all);
            let _ = child.wait();
        }
    }
}

/// Sends `SIG<name>` to `pids` (those that have already ended are skipped
/// by kill(1) with an error nobody needs).
fn signal(name: &str, pids: &[u32]) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// `root` and every live process descending from it.
fn with_descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        all.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    all
}

/// One process's CPU time as /proc gives it, read twice to get exact
/// figures without losing threads that end.
#[derive(Clone, Copy, Default)]
struct CpuReading {
    /// utime + stime in 10 ms ticks: the whole thread group, including
    /// threads that have ended, truncated to whole ticks.
    ticks: u64,
    /// Run time in ns of the threads alive now (schedstat's first field).
    live_ns: u64,
}

/// The readings of `pids`, in order.
fn read_cpu(pids: &[u32]) -> Vec<CpuReading> {
    pids.iter()
        .map(|&pid| CpuReading {
            ticks: cpu_ticks(pid),
            live_ns: std::fs::read_dir(format!("/proc/{pid}/task"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|task| {
                    std::fs::read_to_string(task.path().join("schedstat"))
                        .ok()?
                        .split_whitespace()
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
                .sum(),
        })
        .collect()
}

/// CPU in ns used by the processes between two readings. Per process the
/// exact schedstat difference is taken when it agrees with the tick
/// difference to within the ticks' truncation; when it does not (a thread
/// ended in between, taking its run time with it), the ticks are.
fn cpu_used_ns(before: &[CpuReading], after: &[CpuReading]) -> u64 {
    const TICK_NS: f64 = 1e9 / TICKS_PER_SECOND;
    before
        .iter()
        .zip(after)
        .map(|(b, a)| {
            let coarse = a.ticks.saturating_sub(b.ticks) as f64 * TICK_NS;
            let exact = a.live_ns as f64 - b.live_ns as f64;
            if (exact - coarse).abs() <= 2.5 * TICK_NS {
                exact.max(0.0) as u64
            } else {
                coarse as u64
            }
        })
        .sum()
}

/// Proportional set size of `pids` in kB (shared pages split between the
/// processes that map them, so a sum counts them once).
fn pss_kb(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn start_obelus_server(dir: &Path, port: u16, users: u32) -> Server {
    let files = [
        (
            "modules.conf",
            "[modules]\nautoload=yes\nnoload => manager\nnoload => http\n".to_owned(),
        ),
        ("sorcery.conf", String::new()),
        ("extconfig.conf", String::new()),
        ("extensions.conf", "[default]\n".to_owned()),
        ("pjsip.conf", pjsip_conf(port, users)),
    ];
    // Tens of thousands of pjsip.conf objects take several seconds to load.
    let guard = start_obelus_within(dir, &files, sip_bound(port), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(500));
    Server::Obelus(guard)
}

fn kamailio_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/kamailio/kamailio.cfg")
}

fn start_kamailio(dir: &Path, db: &Path, port: u16, settings: &Settings) -> Server {
    let mut command = Command::new("kamailio");
    if let Some(manager) = &settings.kamailio_memory {
        command.args(["-x", manager, "-X", manager]);
    }
    let child = command
        .current_dir(dir)
        .arg("-f")
        .arg(kamailio_config())
        .args(["-DD", "-E", "-m", "512"])
        .args(["-n", &settings.kamailio_children.to_string()])
        .args(["-l", &format!("udp:127.0.0.1:{port}")])
        .arg("-A")
        .arg(format!("USERS_DB=\"text://{}\"", db.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join(format!("kamailio-{port}.log"))).unwrap(),
        ))
        .spawn()
        .expect("start kamailio");
    let server = Server::Kamailio(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sip_bound(port)() {
        assert!(Instant::now() < deadline, "kamailio did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The workers fork after the socket is bound.
    std::thread::sleep(Duration::from_millis(1000));
    server
}

/// What one sipp run reported.
struct Outcome {
    completed: u64,
    failed: u64,
    retransmissions: u64,
    elapsed: Duration,
}

impl Outcome {
    fn achieved(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }
}

/// Registers `count` users from `first` at `rate` per second on `port`.
fn sipp_register(dir: &Path, port: u16, first: u32, count: u32, rate: u32) -> Outcome {
    let users = injection_file(dir, first, count);
    let stats = dir.join(format!("register_{port}_{first}_{rate}.csv"));
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/sipp/register_users.xml");
    let started = Instant::now();
    let status = Command::new("sipp")
        .current_dir(dir)
        .arg(format!("127.0.0.1:{port}"))
        .arg("-sf")
        .arg(scenario)
        .arg("-inf")
        .arg(&users)
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
        .args([
            "-r",
            &rate.to_string(),
            "-m",
            &count.to_string(),
            "-l",
            "100000",
        ])
        .args([
            "-nostdin",
            "-timeout",
            "300s",
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
        .expect("run sipp");
    let elapsed = started.elapsed();
    if !status.success() {
        eprintln!("register_load: sipp reported failed registrations at {rate}/s on port {port}");
    }
    let column = |name: &str| sipp_stat(&stats, name);
    Outcome {
        completed: column("SuccessfulCall(C)"),
        failed: column("FailedCall(C)"),
        retransmissions: column("Retransmissions(C)"),
        elapsed,
    }
}

/// How long the idle server is watched before a step.
const IDLE_WINDOW: Duration = Duration::from_secs(2);

/// What one rate step measured on a server.
struct Step {
    outcome: Outcome,
    /// CPU per completed registration, µs.
    per_registration: f64,
    /// CPU per second while idle just before the step, ms (timers, polls).
    idle: f64,
}

/// One rate step against a fresh server: its idle CPU, then the sipp
/// outcome and the server's CPU per completed registration.
fn cpu_step(server: &Server, dir: &Path, port: u16, rate: u32, seconds: u32) -> Step {
    let pids = server.pids();
    let idle_from = read_cpu(&pids);
    std::thread::sleep(IDLE_WINDOW);
    let before = read_cpu(&pids);
    let idle = cpu_used_ns(&idle_from, &before) as f64 / 1e6 / IDLE_WINDOW.as_secs_f64();
    let outcome = sipp_register(dir, port, FIRST_USER, rate * seconds, rate);
    let used = cpu_used_ns(&before, &read_cpu(&pids));
    let per_registration = if outcome.completed > 0 {
        used as f64 / 1000.0 / outcome.completed as f64
    } else {
        f64::NAN
    };
    Step {
        outcome,
        per_registration,
        idle,
    }
}

/// Asks glibc in process `pid` to give its free heap memory back to the
/// kernel (`malloc_trim(0)`, called through gdb), so that the next Pss
/// reading counts live memory only; false when that could not be done.
fn trim_heap(pid: u32) -> bool {
    Command::new("gdb")
        .args(["-p", &pid.to_string(), "-batch", "-nx"])
        .args(["-iex", "set auto-load off"])
        .args(["-ex", "call (int) malloc_trim(0)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Memory of a server over two batches of `contacts` distinct
/// registrations, one line per batch; returns the second batch's kB per
/// contact as is. With `trim` (Obelus: glibc malloc, gdb installed) each
/// reading after a settle is followed by a heap trim and a second reading,
/// the live memory, which is also the next batch's starting point.
fn memory_run(
    name: &str,
    server: &Server,
    dir: &Path,
    port: u16,
    settings: &Settings,
    trim: bool,
) -> f64 {
    let pids = server.pids();
    // Pss after a heap trim; None without trimming or when it failed.
    let live_pss = || (trim && trim_heap(pids[0])).then(|| pss_kb(&pids));
    let mut before = live_pss().unwrap_or_else(|| pss_kb(&pids));
    let mut as_is = f64::NAN;
    for batch in 0..2 {
        let first = FIRST_USER + batch * settings.contacts;
        let outcome = sipp_register(dir, port, first, settings.contacts, settings.memory_rate);
        std::thread::sleep(settings.settle);
        let raw = pss_kb(&pids);
        let live = live_pss();
        let per = |after: u64| {
            if outcome.completed > 0 {
                (after as f64 - before as f64) / outcome.completed as f64
            } else {
                f64::NAN
            }
        };
        as_is = per(raw);
        println!(
            "{:<9} {:>5} {:>10} {:>7} {:>12} {:>12} {:>14.3} {:>14}",
            name,
            batch + 1,
            outcome.completed,
            outcome.failed,
            before,
            raw,
            as_is,
            live.map_or_else(|| "-".to_owned(), |l| format!("{:.3}", per(l)))
        );
        before = live.unwrap_or(raw);
    }
    as_is
}

fn installed(program: &str, flag: &str) -> bool {
    Command::new(program)
        .arg(flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn main() {
    if !installed("sipp", "-v") {
        eprintln!("register_load: sipp is not installed (apt-get install sip-tester); skipped");
        return;
    }
    let kamailio = installed("kamailio", "-v");
    if !kamailio {
        eprintln!(
            "register_load: kamailio is not installed (apt-get install kamailio); its rows are skipped"
        );
    }
    let settings = Settings::from_env();
    let users = settings.users();
    let dir = tempfile::tempdir().unwrap();
    let db = kamailio_db(dir.path(), users);
    println!(
        "register_load: {users} users, {} s per step, rates {:?} REGISTER/s, Kamailio with {} UDP workers, memory manager {}",
        settings.seconds,
        settings.rates,
        settings.kamailio_children,
        settings.kamailio_memory.as_deref().unwrap_or("default")
    );
    println!(
        "{:<9} {:>6} {:>9} {:>7} {:>8} {:>9} {:>11} {:>15} {:>12}",
        "server",
        "rate",
        "completed",
        "failed",
        "retrans",
        "achieved",
        "µs CPU/reg",
        "obelus/kamailio",
        "idle ms/s"
    );
    for &rate in &settings.rates {
        let run = tempfile::tempdir().unwrap();
        let port = free_port();
        let server = start_obelus_server(run.path(), port, users);
        let obelus = cpu_step(&server, run.path(), port, rate, settings.seconds);
        drop(server);
        print_step("obelus", rate, &obelus, "");
        if kamailio {
            let port = free_port();
            let server = start_kamailio(run.path(), &db, port, &settings);
            let kamailio = cpu_step(&server, run.path(), port, rate, settings.seconds);
            drop(server);
            let ratio = format!("{:.2}", obelus.per_registration / kamailio.per_registration);
            print_step("kamailio", rate, &kamailio, &ratio);
        }
    }
    if settings.contacts == 0 {
        return;
    }
    let trim = installed("gdb", "--version");
    println!(
        "memory: two batches of {} contacts at {}/s, Pss read {} s after each batch{}",
        settings.contacts,
        settings.memory_rate,
        settings.settle.as_secs(),
        if trim {
            "; Obelus's heap then trimmed (gdb: malloc_trim) for the live figure"
        } else {
            "; gdb not installed: no live figure"
        }
    );
    println!(
        "{:<9} {:>5} {:>10} {:>7} {:>12} {:>12} {:>14} {:>14}",
        "server",
        "batch",
        "registered",
        "failed",
        "Pss from kB",
        "Pss to kB",
        "kB/contact",
        "live kB/cont."
    );
    let run = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = start_obelus_server(run.path(), port, users);
    let obelus_kb = memory_run("obelus", &server, run.path(), port, &settings, trim);
    drop(server);
    if kamailio {
        let port = free_port();
        let server = start_kamailio(run.path(), &db, port, &settings);
        let kamailio_kb = memory_run("kamailio", &server, run.path(), port, &settings, false);
        drop(server);
        println!(
            "memory per contact (batch 2, as is), obelus/kamailio: {:.2}",
            obelus_kb / kamailio_kb
        );
    }
}

fn print_step(name: &str, rate: u32, step: &Step, ratio: &str) {
    println!(
        "{:<9} {:>6} {:>9} {:>7} {:>8} {:>9.0} {:>11.1} {:>15} {:>12.2}",
        name,
        rate,
        step.outcome.completed,
        step.outcome.failed,
        step.outcome.retransmissions,
        step.outcome.achieved(),
        step.per_registration,
        ratio,
        step.idle
    );
}
