//! MixMonitor's `m(mailbox[@context][/folder],...)`: once a recording is
//! complete, each file of it (the mixed one, and the `r()` and `t()` ones)
//! becomes a message in every box named, as `app_voicemail`'s
//! `msg_create_from_file` makes one: the audio copied as
//! `<astspooldir>/voicemail/<context>/<mailbox>/<folder>/msgNNNN.<ext>`
//! (the first free number from `msg0000`) beside its `msgNNNN.txt`
//! (the `[message]` section: where the call was in the dialplan, the
//! channel, the caller id, the time, the duration).
//!
//! Obelus has no voicemail application yet: the messages are written where
//! Asterisk's `app_voicemail` (file storage) and the tools built around
//! its spool read them, so a mailbox served from the same spool finds them.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use obelus_core::channel::{Channel, Party};

use crate::recording::{Format, split_extension};

/// The highest message number a folder holds (`MAXMSGLIMIT`).
const MAX_MESSAGES: u32 = 9999;

/// One voicemail box a copy goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recipient {
    pub(super) mailbox: String,
    /// `default` when not given.
    pub(super) context: String,
    /// `INBOX` when not given.
    pub(super) folder: String,
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}/{}", self.mailbox, self.context, self.folder)
    }
}

/// `add_vm_recipients_from_string`: boxes separated by `,` or `&`, each
/// `mailbox[@context][/folder]`; an element without a mailbox is logged
/// and skipped.
pub(super) fn parse_recipients(text: &str) -> Vec<Recipient> {
    let mut out = Vec::new();
    for (i, element) in text.split([',', '&']).enumerate() {
        let element = element.trim();
        if element.is_empty() {
            continue;
        }
        let (address, folder) = element.split_once('/').unwrap_or((element, "INBOX"));
        let (mailbox, context) = address.split_once('@').unwrap_or((address, "default"));
        let (mailbox, context) = (mailbox.trim(), context.trim());
        // A box name that could leave the spool is no box at all.
        let safe = |part: &str| !part.is_empty() && !part.contains("..") && !part.contains('/');
        if safe(mailbox) && safe(context) && safe(folder.trim()) {
            out.push(Recipient {
                mailbox: mailbox.to_owned(),
                context: context.to_owned(),
                folder: folder.trim().to_owned(),
            });
        } else {
            tracing::error!(
                "Failed to properly parse extension and/or context from element {i} of recipient string: {text}"
            );
        }
    }
    out
}

/// `ast_callerid_merge`: `"name" <number>`, or whichever is known, or
/// `Unknown`.
fn merge(party: &Party) -> String {
    match (party.name.is_empty(), party.number.is_empty()) {
        (false, false) => format!("\"{}\" <{}>", party.name, party.number),
        (false, true) => party.name.clone(),
        (true, false) => party.number.clone(),
        (true, true) => "Unknown".to_owned(),
    }
}

/// What the messages say about the call, taken when the recording starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CallInfo {
    pub(super) context: String,
    pub(super) exten: String,
    pub(super) priority: i32,
    /// The channel's name.
    pub(super) channel: String,
    /// The connected line (who the channel talks to), or with `c` the
    /// channel's own caller id, merged.
    pub(super) callerid: String,
}

impl CallInfo {
    /// The call as `channel` is now.
    pub(super) fn of(channel: &Channel, real_callerid: bool) -> CallInfo {
        let (context, exten, priority) = channel.location();
        let party = if real_callerid {
            channel.caller()
        } else {
            channel.connected()
        };
        CallInfo {
            context,
            exten,
            priority,
            channel: channel.name().to_owned(),
            callerid: merge(&party),
        }
    }
}

/// `generate_msg_id`: the time and a counter, unique in the process.
fn msg_id(origtime: u64) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!("{origtime}-{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Whole seconds of audio in a recording file of `channels` channels.
fn duration(path: &Path, format: Format, channels: u32) -> io::Result<u64> {
    let mut audio = fs::metadata(path)?.len();
    if format.has_header() {
        // The data chunk's size, as the writer patched it.
        let mut header = [0u8; 44];
        fs::File::open(path)?.read_exact(&mut header)?;
        audio = u64::from(u32::from_le_bytes([
            header[40], header[41], header[42], header[43],
        ]));
    }
    Ok(audio / (u64::from(format.bytes_per_second()) * u64::from(channels.max(1))))
}

/// The `msgNNNN.txt` of a copy.
fn message_text(call: &CallInfo, recipient: &Recipient, when: SystemTime, seconds: u64) -> String {
    let at: chrono::DateTime<chrono::Utc> = when.into();
    let origtime = at.timestamp().max(0) as u64;
    format!(
        ";\n; Message Information file\n;\n[message]\norigmailbox={}\ncontext={}\nexten={}\nrdnis=Unknown\npriority={}\ncallerchan={}\ncallerid={}\norigdate={}\norigtime={origtime}\ncategory=\nmsg_id={}\nflag=\nduration={seconds}\n",
        recipient.mailbox,
        call.context,
        call.exten,
        call.priority,
        if call.channel.is_empty() {
            "Unknown"
        } else {
            &call.channel
        },
        call.callerid,
        at.format("%a %b %e %r UTC %Y"),
        msg_id(origtime),
    )
}

/// Copies the recording `file` (a full name with its extension, of
/// `channels` channels) into `recipient`'s folder under `spool` as the
/// next message; returns the message's audio file.
pub(super) fn copy(
    spool: &Path,
    recipient: &Recipient,
    file: &str,
    channels: u32,
    call: &CallInfo,
    when: SystemTime,
) -> io::Result<PathBuf> {
    let ext = split_extension(file).1;
    let format = Format::from_extension(ext)
        .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, format!("no format '{ext}'")))?;
    let seconds = duration(Path::new(file), format, channels)?;
    let dir = spool
        .join("voicemail")
        .join(&recipient.context)
        .join(&recipient.mailbox)
        .join(&recipient.folder);
    fs::create_dir_all(&dir)?;
    for n in 0..=MAX_MESSAGES {
        let base = dir.join(format!("msg{n:04}"));
        let txt = base.with_extension("txt");
        // The text file claims the number: another copy running at the
        // same moment takes the next one.
        let claimed = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&txt);
        let mut claimed = match claimed {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let audio = base.with_extension(ext);
        if let Err(e) = fs::copy(file, &audio) {
            let _ = fs::remove_file(&txt);
            return Err(e);
        }
        io::Write::write_all(
            &mut claimed,
            message_text(call, recipient, when, seconds).as_bytes(),
        )?;
        return Ok(audio);
    }
    Err(io::Error::other(format!(
        "{} is full ({} messages)",
        dir.display(),
        MAX_MESSAGES + 1
    )))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call() -> CallInfo {
        CallInfo {
            context: "testing".into(),
            exten: "700".into(),
            priority: 2,
            channel: "PJSIP/101-00000001".into(),
            callerid: "\"Alice\" <101>".into(),
        }
    }

    #[test]
    fn recipients_take_commas_ampersands_contexts_and_folders() {
        let r = parse_recipients("100@sales/Work, 200&300@x,,@nobox,../etc@x,4/../..");
        let shown: Vec<String> = r.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["100@sales/Work", "200@default/INBOX", "300@x/INBOX"]
        );
    }

    #[test]
    fn caller_ids_merge_as_asterisk_does() {
        let party = |name: &str, number: &str| Party {
            name: name.into(),
            number: number.into(),
        };
        assert_eq!(merge(&party("Alice", "101")), "\"Alice\" <101>");
        assert_eq!(merge(&party("", "101")), "101");
        assert_eq!(merge(&party("Alice", "")), "Alice");
        assert_eq!(merge(&party("", "")), "Unknown");
    }

    #[test]
    fn copies_take_the_next_free_number_with_their_text_file() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let rec = dir.path().join("rec.wav");
        // Three seconds and a bit of 8 kHz mono.
        obelus_media::sound::write_wav(&rec, 8000, &vec![100i16; 8000 * 3 + 400]).unwrap();
        let recipient = &parse_recipients("101@office")[0];
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_768_212_000);
        let rec_name = rec.to_str().unwrap();
        let first = copy(&spool, recipient, rec_name, 1, &call(), when).unwrap();
        let second = copy(&spool, recipient, rec_name, 1, &call(), when).unwrap();
        let inbox = spool.join("voicemail/office/101/INBOX");
        assert_eq!(first, inbox.join("msg0000.wav"));
        assert_eq!(second, inbox.join("msg0001.wav"));
        assert_eq!(fs::read(&first).unwrap(), fs::read(&rec).unwrap());
        let text = fs::read_to_string(inbox.join("msg0000.txt")).unwrap();
        let expected = ";\n; Message Information file\n;\n[message]\norigmailbox=101\ncontext=testing\nexten=700\nrdnis=Unknown\npriority=2\ncallerchan=PJSIP/101-00000001\ncallerid=\"Alice\" <101>\norigdate=Mon Jan 12 10:00:00 AM UTC 2026\norigtime=1768212000\ncategory=\nmsg_id=1768212000-";
        assert!(text.starts_with(expected), "{text}");
        assert!(text.ends_with("\nflag=\nduration=3\n"), "{text}");
        let other = fs::read_to_string(inbox.join("msg0001.txt")).unwrap();
        let id = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("msg_id="))
                .unwrap()
                .to_owned()
        };
        assert_ne!(id(&text), id(&other), "message ids are unique");
    }

    #[test]
    fn durations_follow_the_format_and_channels() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("x.ulaw");
        fs::write(&raw, vec![0xFFu8; 8000 * 4]).unwrap();
        let ulaw = Format::from_extension("ulaw").unwrap();
        assert_eq!(duration(&raw, ulaw, 1).unwrap(), 4);
        assert_eq!(duration(&raw, ulaw, 2).unwrap(), 2, "interleaved stereo");
        let missing = dir.path().join("none.wav");
        let err = copy(
            dir.path(),
            &parse_recipients("1")[0],
            missing.to_str().unwrap(),
            1,
            &call(),
            SystemTime::now(),
        );
        assert!(err.is_err());
        assert!(
            !dir.path().join("voicemail").exists(),
            "no message without audio"
        );
    }
}
