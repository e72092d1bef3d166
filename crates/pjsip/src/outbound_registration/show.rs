//! `pjsip show registrations`, `pjsip show registration <id>`, `pjsip send
//! register <id>|*all`, `pjsip send unregister <id>|*all`, worded and laid
//! out as res_pjsip_outbound_registration prints them.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use obelus_core::cli::{CliCommand, CliError};
use obelus_sorcery::{Object, SorceryService};

use super::{OutboundRegistrations, Registration};
use crate::show::{RULE, footer, parameters, with_sorcery};

/// The width Asterisk gives `<id>/<server_uri>`.
const URI_FIELD: usize = 53;

fn header() -> String {
    format!(
        "\n <Registration/ServerURI..............................>  <Auth....................>  <Status.......>\n{RULE}\n\n"
    )
}

/// `(exp. 3542s)` while registered (`s ago` once past).
fn expiry(live: &Registration) -> String {
    let Some(at) = live.snapshot.expires_at else {
        return String::new();
    };
    match at.duration_since(SystemTime::now()) {
        Ok(left) => format!(" (exp. {}s)", left.as_secs()),
        Err(past) => format!(" (exp. {}s ago)", past.duration().as_secs()),
    }
}

/// One row: ` <id>/<server_uri>  <auth>  <status>  (exp. Ns)`. A
/// registration that is not running (invalid) shows as Unregistered.
fn row(object: &Object, live: Option<&Registration>) -> String {
    let id = object.id();
    let width = URI_FIELD.saturating_sub(id.len());
    let server: String = object
        .str("server_uri")
        .unwrap_or("")
        .chars()
        .take(width)
        .collect();
    let auth = object
        .list("outbound_auth")
        .first()
        .map_or("n/a", String::as_str);
    let status = live.map_or("Unregistered", |l| l.snapshot.status.as_str());
    let exp = live.map(expiry).unwrap_or_default();
    let line = format!(" {id}/{server:<width$}  {auth:<26}  {status:<16} {exp}");
    format!("{}\n", line.trim_end())
}

/// Tab completion of the first argument: the running registrations (and
/// `*all` where it is accepted).
fn completer(
    live: &Arc<OutboundRegistrations>,
    all: bool,
) -> impl Fn(&[String]) -> Vec<String> + Send + Sync + 'static {
    let live = Arc::clone(live);
    move |args| {
        let [partial] = args else {
            return Vec::new();
        };
        let mut ids = live.ids();
        if all {
            ids.push("*all".to_owned());
        }
        ids.retain(|id| id.starts_with(partial.as_str()));
        ids
    }
}

fn unknown(id: &str) -> String {
    format!("Unable to find object {id}.\n\n")
}

/// The commands, bound to the sorcery service and the live registrations.
pub(crate) fn commands(
    service: &Arc<SorceryService>,
    live: &Arc<OutboundRegistrations>,
) -> Vec<CliCommand> {
    let regs = Arc::clone(live);
    let list = with_sorcery(
        service,
        "pjsip show registrations",
        "List PJSIP Registrations",
        "Usage: pjsip show registrations [like <regex>]\n       List (or filter) the PJSIP outbound registrations and their status.",
        move |sorcery, args| {
            let regs = Arc::clone(&regs);
            async move {
                let objects = match args.as_slice() {
                    [] => sorcery.retrieve_all("registration").await,
                    [like, re] if like.eq_ignore_ascii_case("like") => {
                        sorcery.retrieve_by_regex("registration", re).await
                    }
                    _ => return Err(CliError::ShowUsage),
                }
                .map_err(|e| CliError::Failed(format!("Unable to retrieve objects: {e}")))?;
                if objects.is_empty() {
                    return Ok("No objects found.\n".into());
                }
                let mut objects = objects.to_vec();
                objects.sort_by(|a, b| a.id().cmp(b.id()));
                let mut out = header();
                for object in &objects {
                    out.push_str(&row(object, regs.get(object.id()).as_ref()));
                }
                out.push_str(&footer(objects.len()));
                Ok(out)
            }
        },
    )
    .with_args();

    let regs = Arc::clone(live);
    let one = with_sorcery(
        service,
        "pjsip show registration",
        "Show PJSIP Registration(s) detail",
        "Usage: pjsip show registration <id>\n       Show the PJSIP outbound registration with its status and options.",
        move |sorcery, args| {
            let regs = Arc::clone(&regs);
            async move {
                let [id] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let Ok(Some(object)) = sorcery.retrieve_by_id("registration", id).await else {
                    return Ok(unknown(id));
                };
                let mut out = header();
                out.push_str(&row(&object, regs.get(id).as_ref()));
                out.push_str(&parameters(&object));
                Ok(out)
            }
        },
    )
    .with_completer(completer(live, false));

    let regs = Arc::clone(live);
    let register = CliCommand::new(
        "pjsip send register",
        "Registers an outbound registration target",
        "Usage: pjsip send register <registration> | *all\n       Unregisters the specified (or all) outbound registration(s)\n       then starts registration(s) and schedules re-registrations\n       according to configuration.",
        move |args| {
            let regs = Arc::clone(&regs);
            async move { send(&regs, &args.args, true) }
        },
    )
    .with_completer(completer(live, true));

    let regs = Arc::clone(live);
    let unregister = CliCommand::new(
        "pjsip send unregister",
        "Unregisters outbound registration target",
        "Usage: pjsip send unregister <registration> | *all\n       Unregisters the specified (or all) outbound registration(s)\n       then stops registration attempts. Use 'pjsip send register'\n       to start them again.",
        move |args| {
            let regs = Arc::clone(&regs);
            async move { send(&regs, &args.args, false) }
        },
    )
    .with_completer(completer(live, true));
    vec![list, one, register, unregister]
}

/// `pjsip send register|unregister <id>|*all`.
fn send(regs: &OutboundRegistrations, args: &[String], register: bool) -> Result<String, CliError> {
    let [id] = args else {
        return Err(CliError::ShowUsage);
    };
    let run = |id: &str| {
        if register {
            regs.register(id)
        } else {
            regs.unregister(id)
        }
    };
    if id == "*all" {
        for id in regs.ids() {
            if let Err(e) = run(&id) {
                tracing::warn!("{e}");
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            if register {
                "Re-register all queued"
            } else {
                "Unregister all queued"
            }
        );
        return Ok(out);
    }
    run(id).map_err(|e| CliError::Failed(e.to_string()))?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound_registration::{Config, Snapshot, Status};

    #[test]
    fn rows_are_laid_out_as_asterisk_does() {
        let ty = Arc::new(crate::objects::registration::object_type().unwrap());
        let mut o = ty.new_object("trunk");
        o.set("server_uri", "sip:127.0.0.1:5070").unwrap();
        o.set("client_uri", "sip:alice@127.0.0.1:5070").unwrap();
        o.set("outbound_auth", "trunk-auth").unwrap();
        let live = Registration {
            config: Config::from_object(&o).unwrap(),
            snapshot: Snapshot {
                status: Status::Registered,
                expires_at: Some(SystemTime::now() + std::time::Duration::from_millis(3_542_500)),
                ..Snapshot::default()
            },
        };
        let line = row(&o, Some(&live));
        assert_eq!(
            line,
            format!(
                " trunk/{:<48}  {:<26}  Registered        (exp. 3542s)\n",
                "sip:127.0.0.1:5070", "trunk-auth"
            )
        );
        // The columns line up under the header's.
        let head = header();
        let legend = head.lines().nth(1).unwrap();
        assert_eq!(legend.find("<Auth"), line.find("trunk-auth"));
        assert_eq!(legend.find("<Status"), line.find("Registered"));
        let bare = ty.new_object("x");
        assert!(row(&bare, None).contains(&format!("{:<26}  Unregistered", "n/a")));
    }

    #[test]
    fn completion_offers_all_where_it_is_accepted() {
        let live = Arc::new(OutboundRegistrations::default());
        assert_eq!(completer(&live, true)(&["*".into()]), ["*all"]);
        assert!(completer(&live, false)(&["".into()]).is_empty());
        assert!(completer(&live, true)(&["a".into(), "b".into()]).is_empty());
    }
}
