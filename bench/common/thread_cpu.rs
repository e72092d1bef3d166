//! CPU time of some of this process's threads, for benches that run the
//! code under test in-process beside their own load generators: only the
//! threads doing the work are counted.

/// Run time in ns of this process's threads whose name starts with `prefix`.
pub fn thread_cpu_ns(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for t in tasks.flatten() {
        let dir = t.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !name.trim_end().starts_with(prefix) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(dir.join("schedstat")) {
            total += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        } else if let Ok(s) = std::fs::read_to_string(dir.join("stat")) {
            // utime + stime in clock ticks (assumed 100 Hz), after the ")" of the name.
            let rest = s.rsplit(')').next().unwrap_or("");
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: u64 = f
                .get(11..13)
                .map_or(0, |v| v.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
            total += ticks * 10_000_000;
        }
    }
    total
}
