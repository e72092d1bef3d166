//! Throughput of the `.conf` parser on a generated 10,000-line file: pjsip.conf-like
//! sections with templates and comments, and extensions.conf-like `exten =>` lines.
//!
//! Run: `cargo bench -p obelus-conf --bench conf_parse`

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// About `lines` lines of realistic configuration.
fn generate(lines: usize) -> String {
    let mut s = String::with_capacity(lines * 32);
    s.push_str(
        ";\n; Generated benchmark configuration\n;\n[global]\ntype=global\nuser_agent=Obelus\n\n",
    );
    s.push_str("[endpoint-tmpl](!)\ntype=endpoint\ncontext=from-internal\ndisallow=all\nallow=ulaw\nallow=alaw\n");
    s.push_str(
        "direct_media=no ; keep media anchored\n\n[aor-tmpl](!)\ntype=aor\nmax_contacts=1\n\n",
    );
    let mut n = 0usize;
    let mut i = 1000usize;
    while n < lines / 2 {
        let _ = write!(
            s,
            "; phone {i}\n[{i}](endpoint-tmpl)\nauth={i}\naors={i}\ncallerid=\"User {i}\" <{i}>\n\n\
             [{i}](aor-tmpl)\n\n[{i}-auth]\ntype=auth\nauth_type=userpass\nusername={i}\npassword=secret\\;{i}\n\n"
        );
        n += 15;
        i += 1;
    }
    s.push_str(";-- dialplan below\n   generated too --;\n[from-internal]\n");
    let mut k = 0usize;
    while n < lines {
        let _ = write!(
            s,
            "exten => {k},1,NoOp(Call to ${{EXTEN}})\n same => n,Dial(PJSIP/{k},30,tT) ; ring\n same => n,Hangup()\n"
        );
        n += 3;
        k += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = generate(10_000);
    assert!(obelus_conf::parse_str("bench.conf", &text).is_ok());
    let mut g = c.benchmark_group("conf_parse");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse_str_10k_lines", |b| {
        b.iter(|| {
            obelus_conf::parse_str("bench.conf", black_box(&text)).map(|c| c.categories().count())
        })
    });
    g.bench_function("document_parse_10k_lines", |b| {
        b.iter(|| {
            obelus_conf::Document::parse("bench.conf", black_box(&text))
                .map(|d| d.category_names().count())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
