//! Music on hold: a class's songs decoded once and shared, and the
//! per-channel generator that loops them.
//!
//! Asterisk's `mode=files` classes give every channel its own pass through
//! the class's files: a channel starting music on hold hears the class from
//! its first song (or a random one), and a channel that stops and later
//! starts the same class again goes on where it left off. [`Playlist`] holds
//! the decoded songs, shared (`Arc`) by every channel playing them;
//! [`MohSource`] is one channel's generator, an [`AudioSource`] the media
//! engine pulls 20 ms at a time; its place lives in a [`Cursor`] the channel
//! keeps between holds.
//!
//! A song may carry its audio at 8 kHz and at 16 kHz (from `.ulaw` and
//! `.g722`/`.sln16` files of one name, as Asterisk's music packs ship them).
//! The generator plays the rate of the stream's codec when every song has
//! it ([`AudioSource::prefer_rate`]), so a G.711 call gets narrowband audio
//! and a G.722 call wideband audio without resampling per packet. Reading a
//! frame copies samples and never allocates.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::audio::{AudioSource, frame_len};
use crate::resample::Resampler;
use crate::sound::Sound;

/// One song of a class: its name (the file name without extension) and its
/// audio at 8 kHz, with the 16 kHz version when a wideband file exists.
#[derive(Debug, Clone)]
pub struct Song {
    name: String,
    narrow: Arc<[i16]>,
    wide: Option<Arc<[i16]>>,
}

impl Song {
    /// A song from the decoded files of one name: the 8 kHz one becomes
    /// the narrowband audio, the 16 kHz one the wideband audio (and, when
    /// there is no 8 kHz file, the narrowband audio too, resampled here
    /// once). `None` when no sound holds a sample.
    pub fn new(name: impl Into<String>, sounds: &[Sound]) -> Option<Song> {
        let pick = |rate: u32| {
            sounds
                .iter()
                .filter(|s| s.rate == rate && !s.samples.is_empty())
                .max_by_key(|s| s.samples.len())
                .map(|s| Arc::clone(&s.samples))
        };
        let wide = pick(16000);
        let narrow = match (pick(8000), &wide) {
            (Some(n), _) => n,
            (None, Some(w)) => downsample(w),
            (None, None) => return None,
        };
        Some(Song {
            name: name.into(),
            narrow,
            wide,
        })
    }

    /// The name (file name without extension).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the song plays.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.narrow.len() as u64 / 8)
    }

    /// Whether 16 kHz audio was found for it.
    pub fn is_wideband(&self) -> bool {
        self.wide.is_some()
    }

    /// The audio at 16 kHz (`wide`) or 8 kHz.
    fn samples(&self, wide: bool) -> &[i16] {
        match (&self.wide, wide) {
            (Some(w), true) => w,
            _ => &self.narrow,
        }
    }
}

/// 16 kHz audio brought down to 8 kHz.
fn downsample(wide: &[i16]) -> Arc<[i16]> {
    let mut rs = Resampler::for_rates(16000, 8000);
    let mut out = vec![0i16; wide.len() / 2 + 64];
    let mut n = 0;
    for chunk in wide.chunks(4096) {
        n += rs.process(chunk, &mut out[n..]);
    }
    out.truncate(n);
    out.into()
}

/// The order a class plays its songs in (`sort=` of `musiconhold.conf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// In list order (alphabetical for a directory), from the first song.
    #[default]
    Listed,
    /// A random song each time one ends (`sort=random`).
    Random,
    /// In list order, from a random song (`sort=randstart`).
    RandStart,
}

/// A class's songs, decoded, in playing order.
#[derive(Debug)]
pub struct Playlist {
    songs: Vec<Song>,
    order: Order,
    wide: bool,
}

impl Playlist {
    /// A playlist of `songs` (at least one) played in `order`.
    pub fn new(songs: Vec<Song>, order: Order) -> Option<Playlist> {
        if songs.is_empty() {
            return None;
        }
        let wide = songs.iter().all(Song::is_wideband);
        Some(Playlist { songs, order, wide })
    }

    /// The songs, in list order.
    pub fn songs(&self) -> &[Song] {
        &self.songs
    }

    /// The playing order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// Whether every song has 16 kHz audio (so a wideband call gets it).
    pub fn is_wideband(&self) -> bool {
        self.wide
    }
}

/// Where one channel is in a playlist: kept by the channel between holds
/// and updated by its generator as it plays, so that music on hold resumes
/// where it stopped (Asterisk's saved position per channel).
#[derive(Debug, Default)]
pub struct Cursor {
    started: AtomicBool,
    song: AtomicUsize,
    /// Position in the song, in 8 kHz samples.
    pos: AtomicUsize,
}

impl Cursor {
    /// A cursor at no place yet: the first generator picks the start.
    pub fn new() -> Arc<Cursor> {
        Arc::new(Cursor::default())
    }

    /// The song index and the position in it (8 kHz samples), once started.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.started.load(Ordering::Acquire).then(|| {
            (
                self.song.load(Ordering::Relaxed),
                self.pos.load(Ordering::Relaxed),
            )
        })
    }

    fn store(&self, song: usize, pos8k: usize) {
        self.song.store(song, Ordering::Relaxed);
        self.pos.store(pos8k, Ordering::Relaxed);
        self.started.store(true, Ordering::Release);
    }
}

/// One channel's music on hold: loops a [`Playlist`] from its [`Cursor`]
/// for ever.
pub struct MohSource {
    playlist: Arc<Playlist>,
    cursor: Arc<Cursor>,
    song: usize,
    /// Position in the current song, in samples of the current rate.
    pos: usize,
    wide: bool,
    rng: u64,
}

impl MohSource {
    /// A generator over `playlist`, going on from `cursor` if it has a
    /// place, else from the first song (a random one for `sort=random` and
    /// `sort=randstart`). It plays 8 kHz audio until told the codec's rate.
    pub fn new(playlist: Arc<Playlist>, cursor: Arc<Cursor>) -> MohSource {
        let mut rng = rand::random::<u64>() | 1;
        let count = playlist.songs.len();
        let (song, pos) = match cursor.position() {
            Some((song, pos)) if song < count => (song, pos),
            _ => match playlist.order {
                Order::Listed => (0, 0),
                Order::Random | Order::RandStart => {
                    ((xorshift(&mut rng) % count as u64) as usize, 0)
                }
            },
        };
        cursor.store(song, pos);
        MohSource {
            playlist,
            cursor,
            song,
            pos,
            wide: false,
            rng,
        }
    }

    fn next_song(&mut self) {
        let count = self.playlist.songs.len();
        self.song = match self.playlist.order {
            Order::Random if count > 1 => {
                // Any song but the one that just ended.
                let step = 1 + (xorshift(&mut self.rng) % (count as u64 - 1)) as usize;
                (self.song + step) % count
            }
            _ => (self.song + 1) % count,
        };
        self.pos = 0;
    }
}

/// A small fast generator for song picks on the media thread.
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

impl AudioSource for MohSource {
    fn sample_rate(&self) -> u32 {
        if self.wide { 16000 } else { 8000 }
    }

    fn prefer_rate(&mut self, rate: u32) {
        let wide = rate == 16000 && self.playlist.wide;
        if wide != self.wide {
            self.pos = if wide { self.pos * 2 } else { self.pos / 2 };
            self.wide = wide;
        }
    }

    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let want = frame_len(self.sample_rate()).min(out.len());
        let mut written = 0;
        // Every song holds samples (Song::new), so each pass copies some.
        while written < want {
            let samples = self.playlist.songs[self.song].samples(self.wide);
            if self.pos >= samples.len() {
                self.next_song();
                continue;
            }
            let n = (samples.len() - self.pos).min(want - written);
            out[written..written + n].copy_from_slice(&samples[self.pos..self.pos + n]);
            self.pos += n;
            written += n;
        }
        if self.pos >= self.playlist.songs[self.song].samples(self.wide).len() {
            self.next_song();
        }
        let pos8k = if self.wide { self.pos / 2 } else { self.pos };
        self.cursor.store(self.song, pos8k);
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{goertzel_power, sine};

    fn sound(rate: u32, freq: f32, samples: usize) -> Sound {
        Sound {
            rate,
            samples: sine(rate, freq, 8000.0, samples).into(),
        }
    }

    fn read(src: &mut MohSource, frames: usize) -> Vec<i16> {
        let mut out = Vec::new();
        let mut frame = [0i16; 320];
        for _ in 0..frames {
            let n = src.read_frame(&mut frame);
            assert_eq!(n, frame_len(src.sample_rate()), "never short, never ends");
            out.extend_from_slice(&frame[..n]);
        }
        out
    }

    #[test]
    fn loops_the_songs_in_order_and_resumes_from_the_cursor() {
        // Two songs of 300 ms: 500 Hz then 1500 Hz.
        let songs = vec![
            Song::new("a", &[sound(8000, 500.0, 2400)]).unwrap(),
            Song::new("b", &[sound(8000, 1500.0, 2400)]).unwrap(),
        ];
        let playlist = Arc::new(Playlist::new(songs, Order::Listed).unwrap());
        let cursor = Cursor::new();
        let mut src = MohSource::new(Arc::clone(&playlist), Arc::clone(&cursor));
        let first = read(&mut src, 15);
        assert!(
            goertzel_power(&first[..2400], 8000, 500.0)
                > 100.0 * goertzel_power(&first[..2400], 8000, 1500.0)
        );
        assert_eq!(cursor.position(), Some((1, 0)));
        let second = read(&mut src, 5);
        assert!(
            goertzel_power(&second, 8000, 1500.0) > 100.0 * goertzel_power(&second, 8000, 500.0)
        );
        assert_eq!(cursor.position(), Some((1, 800)));
        // A new generator on the same cursor (MOH started again) goes on
        // in song b, then wraps to song a.
        drop(src);
        let mut again = MohSource::new(Arc::clone(&playlist), Arc::clone(&cursor));
        let rest = read(&mut again, 10);
        assert!(goertzel_power(&rest, 8000, 1500.0) > 100.0 * goertzel_power(&rest, 8000, 500.0));
        let wrapped = read(&mut again, 5);
        assert!(
            goertzel_power(&wrapped, 8000, 500.0) > 100.0 * goertzel_power(&wrapped, 8000, 1500.0)
        );
        // A fresh cursor starts at the first song.
        let mut fresh = MohSource::new(playlist, Cursor::new());
        let start = read(&mut fresh, 5);
        assert_eq!(start, first[..800].to_vec());
    }

    #[test]
    fn plays_wideband_only_when_every_song_has_it() {
        let both = Song::new("x", &[sound(8000, 700.0, 1600), sound(16000, 700.0, 3200)]).unwrap();
        let wide_only = Song::new("y", &[sound(16000, 900.0, 3200)]).unwrap();
        assert!(both.is_wideband() && wide_only.is_wideband());
        // The narrowband version of a wideband-only file is made at load.
        assert!((1590..=1610).contains(&wide_only.samples(false).len()));
        assert_eq!(wide_only.duration(), Duration::from_millis(200));
        let playlist =
            Arc::new(Playlist::new(vec![both.clone(), wide_only], Order::Listed).unwrap());
        let mut src = MohSource::new(Arc::clone(&playlist), Cursor::new());
        assert_eq!(src.sample_rate(), 8000);
        // Song x (200 ms) at 8 kHz, then song y at 16 kHz.
        read(&mut src, 10);
        src.prefer_rate(16000);
        assert_eq!(src.sample_rate(), 16000);
        let wide = read(&mut src, 5);
        assert_eq!(wide.len(), 1600);
        assert!(
            goertzel_power(&wide, 16000, 900.0) > 100.0 * goertzel_power(&wide, 16000, 700.0),
            "song y at 16 kHz"
        );
        let narrow_only = Song::new("z", &[sound(8000, 700.0, 1600)]).unwrap();
        let mixed = Arc::new(Playlist::new(vec![both, narrow_only], Order::Listed).unwrap());
        let mut src = MohSource::new(mixed, Cursor::new());
        src.prefer_rate(16000);
        assert_eq!(
            src.sample_rate(),
            8000,
            "one narrowband song keeps the class at 8 kHz"
        );
    }

    #[test]
    fn random_order_never_repeats_a_song_at_once() {
        let songs: Vec<Song> = (0..3)
            .map(|i| Song::new(format!("s{i}"), &[sound(8000, 400.0, 160)]).unwrap())
            .collect();
        let playlist = Arc::new(Playlist::new(songs, Order::Random).unwrap());
        let cursor = Cursor::new();
        let mut src = MohSource::new(playlist, Arc::clone(&cursor));
        let mut last = cursor.position().unwrap().0;
        let mut seen = [false; 3];
        for _ in 0..200 {
            read(&mut src, 1);
            let (song, _) = cursor.position().unwrap();
            assert_ne!(song, last, "a 20 ms song is followed by another");
            seen[song] = true;
            last = song;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn empty_input_makes_no_song_and_no_playlist() {
        assert!(Song::new("none", &[]).is_none());
        assert!(
            Song::new(
                "empty",
                &[Sound {
                    rate: 8000,
                    samples: Arc::from(Vec::new())
                }]
            )
            .is_none()
        );
        assert!(Playlist::new(Vec::new(), Order::Listed).is_none());
    }
}
