//! Codec, transcoding and mixing cost per 20 ms frame, against a plain copy
//! of the frame and a µ-law decode in the same run.
//!
//! Run: `cargo bench -p obelus-media --bench media_codecs`
//!
//! The ratios printed first come from a simple timing loop in this process;
//! criterion then measures each case on its own for the detailed report.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use obelus_media::analysis::sine;
use obelus_media::mixer::{MIX_FRAME, MixCore};
use obelus_media::{Codec, Decoder, Encoder, Transcoder};

/// Participants in the mixing round.
const PARTICIPANTS: usize = 8;

fn frame(codec: Codec) -> Vec<u8> {
    let pcm = sine(codec.sample_rate(), 1000.0, 8000.0, codec.frame_samples(20));
    let mut out = vec![0u8; codec.frame_bytes(20)];
    let n = Encoder::new(codec).encode(&pcm, &mut out);
    out.truncate(n);
    out
}

/// Nanoseconds per call of `f`, timed over about 150 ms after a warm-up.
fn ns_per(mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let mut iters = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(150) {
        for _ in 0..100 {
            f();
        }
        iters += 100;
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

struct Mixing {
    core: MixCore,
    frames: Vec<[i16; MIX_FRAME]>,
    out: [i16; MIX_FRAME],
}

impl Mixing {
    fn new() -> Mixing {
        let frames = (0..PARTICIPANTS)
            .map(|i| {
                let s = sine(16000, 300.0 + 100.0 * i as f32, 3000.0, MIX_FRAME);
                let mut f = [0i16; MIX_FRAME];
                f.copy_from_slice(&s);
                f
            })
            .collect();
        Mixing {
            core: MixCore::new(),
            frames,
            out: [0; MIX_FRAME],
        }
    }

    /// One round where everybody talks: add all, then sum-minus-self for each.
    fn round(&mut self) -> i16 {
        self.core.clear();
        for f in &self.frames {
            self.core.add(f);
        }
        let mut acc = 0i16;
        for f in &self.frames {
            self.core.minus_into(f, &mut self.out);
            acc = acc.wrapping_add(self.out[7]);
        }
        acc
    }
}

fn print_ratios() {
    let ulaw = frame(Codec::Ulaw);
    let g722 = frame(Codec::G722);
    let mut out = [0u8; 640];
    let mut pcm = [0i16; 640];
    let copy = ns_per(|| {
        out[..160].copy_from_slice(black_box(&ulaw));
        black_box(&out);
    });
    let mut dec = Decoder::new(Codec::Ulaw);
    let decode = ns_per(|| {
        black_box(dec.decode(black_box(&ulaw), &mut pcm));
    });
    println!("reference: copy of a 160-byte frame {copy:.1} ns, ulaw decode {decode:.1} ns");
    let cases = [
        ("ulaw->alaw", Codec::Ulaw, Codec::Alaw, &ulaw),
        ("ulaw->g722", Codec::Ulaw, Codec::G722, &ulaw),
        ("g722->ulaw", Codec::G722, Codec::Ulaw, &g722),
    ];
    for (name, from, to, input) in cases {
        let mut t = Transcoder::new(from, to);
        let ns = ns_per(|| {
            black_box(t.transcode(black_box(input), &mut out));
        });
        println!(
            "transcode {name}: {ns:.0} ns/frame = {:.1}x copy, {:.1}x ulaw decode",
            ns / copy,
            ns / decode
        );
    }
    // Where transcoding time goes.
    let pcm8 = sine(8000, 1000.0, 8000.0, 160);
    let pcm16 = sine(16000, 1000.0, 8000.0, 320);
    let mut wide = [0i16; 640];
    let mut up = obelus_media::Resampler::new(8000, 16000).expect("8k->16k");
    let mut down = obelus_media::Resampler::new(16000, 8000).expect("16k->8k");
    let mut g722_enc = Encoder::new(Codec::G722);
    let mut g722_dec = Decoder::new(Codec::G722);
    let parts = [
        (
            "resample 8k->16k",
            ns_per(|| {
                black_box(up.process(black_box(&pcm8), &mut wide));
            }),
        ),
        (
            "resample 16k->8k",
            ns_per(|| {
                black_box(down.process(black_box(&pcm16), &mut wide));
            }),
        ),
        (
            "g722 encode",
            ns_per(|| {
                black_box(g722_enc.encode(black_box(&pcm16), &mut out));
            }),
        ),
        (
            "g722 decode",
            ns_per(|| {
                black_box(g722_dec.decode(black_box(&g722), &mut pcm));
            }),
        ),
    ];
    for (name, ns) in parts {
        println!(
            "  {name}: {ns:.0} ns/frame = {:.1}x ulaw decode",
            ns / decode
        );
    }
    let mut m = Mixing::new();
    let mix = ns_per(|| {
        black_box(m.round());
    }) / PARTICIPANTS as f64;
    let mut dst = [0i16; MIX_FRAME];
    let copy320 = ns_per(|| {
        dst.copy_from_slice(black_box(&m.frames[0]));
        black_box(&dst);
    });
    println!(
        "mixing (16 kHz, {PARTICIPANTS} talkers): {mix:.0} ns per participant = {:.1}x copy of its frame ({copy320:.1} ns)",
        mix / copy320
    );
}

fn bench(c: &mut Criterion) {
    print_ratios();
    let ulaw = frame(Codec::Ulaw);
    let g722 = frame(Codec::G722);
    let mut g = c.benchmark_group("codec_20ms_frame");
    g.bench_function("copy (reference)", |b| {
        let mut out = [0u8; 160];
        b.iter(|| {
            out.copy_from_slice(black_box(&ulaw));
            black_box(out[3])
        })
    });
    g.bench_function("ulaw decode (reference)", |b| {
        let mut dec = Decoder::new(Codec::Ulaw);
        let mut pcm = [0i16; 160];
        b.iter(|| dec.decode(black_box(&ulaw), &mut pcm))
    });
    for (name, from, to, input) in [
        ("ulaw->alaw", Codec::Ulaw, Codec::Alaw, &ulaw),
        ("ulaw->g722", Codec::Ulaw, Codec::G722, &ulaw),
        ("g722->ulaw", Codec::G722, Codec::Ulaw, &g722),
    ] {
        g.bench_function(name, |b| {
            let mut t = Transcoder::new(from, to);
            let mut out = [0u8; 640];
            b.iter(|| t.transcode(black_box(input), &mut out))
        });
    }
    g.bench_function("mix round, 8 talkers", |b| {
        let mut m = Mixing::new();
        b.iter(|| m.round())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
