//! `MailboxCount` and `MailboxStatus`: messages counted as Asterisk's
//! file-based voicemail stores them, one `msgNNNN.txt` (plus its audio)
//! per message in `<astspooldir>/voicemail/<context>/<mailbox>/<folder>`:
//! `INBOX` (new), `Old`, `Urgent`.
//!
//! `Mailbox` is `mailbox[@context]` (context `default` when absent), or
//! several of them separated by `,` or `&`, whose counts add up.

use std::path::Path;

use super::Req;
use crate::session::Outbound;

/// Messages in each folder of a mailbox (or a list of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `Urgent`.
    pub urgent: usize,
    /// `INBOX`.
    pub new: usize,
    /// `Old`.
    pub old: usize,
}

/// A mailbox or context name that cannot leave the voicemail directory.
fn safe(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn messages(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy().to_ascii_lowercase();
            name.starts_with("msg") && name.ends_with(".txt")
        })
        .count()
}

/// Counts the messages of `spec` under `voicemail` (the spool's
/// `voicemail` directory). Unknown or unsafe mailboxes count nothing.
pub fn count(voicemail: &Path, spec: &str) -> Counts {
    let mut total = Counts::default();
    for one in spec
        .split([',', '&'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (mailbox, context) = one.split_once('@').unwrap_or((one, "default"));
        let context = if context.is_empty() {
            "default"
        } else {
            context
        };
        if !safe(mailbox) || !safe(context) {
            continue;
        }
        let dir = voicemail.join(context).join(mailbox);
        total.urgent += messages(&dir.join("Urgent"));
        total.new += messages(&dir.join("INBOX"));
        total.old += messages(&dir.join("Old"));
    }
    total
}

/// The mailbox header and its counts, read off the async runtime.
async fn counts(req: &Req) -> Result<(String, Counts), Outbound> {
    let mailbox = req.msg.value("Mailbox").trim().to_owned();
    if mailbox.is_empty() {
        return Err(req.error("Mailbox not specified"));
    }
    let voicemail = req.ami.core.settings.dirs.spool.join("voicemail");
    let spec = mailbox.clone();
    let counts = tokio::task::spawn_blocking(move || count(&voicemail, &spec))
        .await
        .unwrap_or_default();
    Ok((mailbox, counts))
}

/// `Action: MailboxCount`.
pub async fn mailbox_count(req: Req) -> Outbound {
    let (mailbox, c) = match counts(&req).await {
        Ok(found) => found,
        Err(e) => return e,
    };
    Outbound::Text(
        req.success()
            .header("Message", "Mailbox Message Count")
            .header("Mailbox", &mailbox)
            .header("UrgMessages", &c.urgent.to_string())
            .header("NewMessages", &c.new.to_string())
            .header("OldMessages", &c.old.to_string())
            .finish(),
    )
}

/// `Action: MailboxStatus`: `Waiting: 1` when there are new (or urgent)
/// messages.
pub async fn mailbox_status(req: Req) -> Outbound {
    let (mailbox, c) = match counts(&req).await {
        Ok(found) => found,
        Err(e) => return e,
    };
    let waiting = u8::from(c.new + c.urgent > 0);
    Outbound::Text(
        req.success()
            .header("Message", "Mailbox Status")
            .header("Mailbox", &mailbox)
            .header("Waiting", &waiting.to_string())
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(dir: &Path, folder: &str, n: usize) {
        let dir = dir.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("msg{n:04}.txt")), "[message]\n").unwrap();
        std::fs::write(dir.join(format!("msg{n:04}.wav")), "RIFF").unwrap();
    }

    #[test]
    fn counts_folders_like_app_voicemail() {
        let spool = tempfile::tempdir().unwrap();
        let vm = spool.path();
        let box100 = vm.join("default/100");
        message(&box100, "INBOX", 0);
        message(&box100, "INBOX", 1);
        message(&box100, "Old", 0);
        message(&box100, "Urgent", 0);
        message(&vm.join("sales/200"), "INBOX", 0);
        std::fs::write(box100.join("INBOX/greet.txt"), "").unwrap();

        let c = count(vm, "100");
        assert_eq!(
            c,
            Counts {
                urgent: 1,
                new: 2,
                old: 1
            }
        );
        assert_eq!(count(vm, "100@default"), c);
        assert_eq!(count(vm, "200@sales").new, 1);
        assert_eq!(count(vm, "200").new, 0, "another context");
        assert_eq!(count(vm, "100@default,200@sales").new, 3);
        assert_eq!(count(vm, "100&200@sales").old, 1);
        assert_eq!(count(vm, "nobody@nowhere"), Counts::default());
        assert_eq!(count(vm, "../default/100"), Counts::default());
        assert_eq!(count(vm, "100@.."), Counts::default());
    }
}
