//! Registered contacts in sorcery (type `contact`, id `<aor>;@<md5 of
//! uri>`, realtime table `ps_contacts`), their expiry, and the
//! `pjsip show contacts|contact` / `pjsip show transports` console
//! commands.

use std::fmt::Write as _;
use std::sync::Arc;

use obelus_core::cli::{CliCommand, CliError};
use obelus_sip::digest::Algorithm;
use obelus_sorcery::{Object, Sorcery, SorceryError, SorceryService};

use crate::registrar::{Binding, Change};

const RULE: &str =
    "==========================================================================================";

/// The id Asterisk gives a registered contact: `<aor>;@<md5 hex of uri>`.
pub fn contact_id(aor: &str, uri: &str) -> String {
    format!("{aor};@{}", Algorithm::Md5.hash(&[uri.as_bytes()]))
}

fn binding_of(contact: &Object) -> Binding {
    Binding {
        uri: contact.str("uri").unwrap_or("").to_owned(),
        expiration_time: contact.uint("expiration_time").unwrap_or(0),
        user_agent: contact.str("user_agent").unwrap_or("").to_owned(),
        via_addr: contact.str("via_addr").unwrap_or("").to_owned(),
        via_port: u16::try_from(contact.uint("via_port").unwrap_or(0)).unwrap_or(0),
        call_id: contact.str("call_id").unwrap_or("").to_owned(),
        path: contact.str("path").unwrap_or("").to_owned(),
    }
}

/// The live bindings of `aor` at UNIX time `now` (lapsed ones are left for
/// the pruning task and not counted).
pub async fn bindings(
    sorcery: &Sorcery,
    aor: &str,
    now: u64,
) -> Result<Vec<Binding>, SorceryError> {
    Ok(sorcery
        .retrieve_by_prefix("contact", &format!("{aor};@"))
        .await?
        .iter()
        .map(|c| binding_of(c))
        .filter(|b| b.expiration_time > now)
        .collect())
}

/// Where a binding came from, stored beside it.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// The AOR id.
    pub aor: &'a str,
    /// The endpoint that registered.
    pub endpoint: &'a str,
    /// `systemname` of this server (`reg_server`).
    pub reg_server: &'a str,
}

/// What happened to one contact, for the `ContactStatus` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The contact's URI.
    pub uri: String,
    /// `Created`, `Updated` or `Removed`.
    pub status: &'static str,
}

/// Stores the registrar's changes; returns what each did.
pub async fn apply(
    sorcery: &Sorcery,
    owner: Owner<'_>,
    changes: &[Change],
) -> Result<Vec<Applied>, String> {
    let mut applied = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            Change::Upsert(b) => {
                let id = contact_id(owner.aor, &b.uri);
                let mut object = sorcery.alloc("contact", &id).map_err(|e| e.to_string())?;
                for (name, value) in [
                    ("uri", b.uri.clone()),
                    ("expiration_time", b.expiration_time.to_string()),
                    ("endpoint", owner.endpoint.to_owned()),
                    ("user_agent", b.user_agent.clone()),
                    ("via_addr", b.via_addr.clone()),
                    ("via_port", b.via_port.to_string()),
                    ("call_id", b.call_id.clone()),
                    ("path", b.path.clone()),
                    ("reg_server", owner.reg_server.to_owned()),
                ] {
                    object
                        .set(name, &value)
                        .map_err(|e| format!("contact {id}: {}: {}", e.field, e.reason))?;
                }
                let (_, created) = sorcery
                    .upsert(object)
                    .await
                    .map_err(|e| format!("contact {id}: {e}"))?;
                if created {
                    crate::qualify::contact_created(owner.aor);
                }
                applied.push(Applied {
                    uri: b.uri.clone(),
                    status: if created { "Created" } else { "Updated" },
                });
            }
            Change::Remove(uri) => {
                let id = contact_id(owner.aor, uri);
                sorcery
                    .delete("contact", &id)
                    .await
                    .map_err(|e| format!("contact {id}: {e}"))?;
                applied.push(Applied {
                    uri: uri.clone(),
                    status: "Removed",
                });
            }
        }
    }
    Ok(applied)
}

/// Deletes the registered contacts of this server that lapsed before
/// `now`; returns how many went.
pub async fn prune_expired(sorcery: &Sorcery, reg_server: &str, now: u64) -> usize {
    let Ok(all) = sorcery.retrieve_all("contact").await else {
        return 0;
    };
    let mut removed = 0;
    for c in all {
        let expiry = c.uint("expiration_time").unwrap_or(0);
        let ours = c.str("reg_server").unwrap_or("") == reg_server;
        // Only registered contacts (`;@` ids) expire; permanent ones do not.
        if ours
            && c.id().contains(";@")
            && expiry > 0
            && expiry <= now
            && sorcery.delete("contact", c.id()).await.is_ok()
        {
            removed += 1;
        }
    }
    removed
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("Unable to retrieve objects: {e}"))
}

/// One `pjsip show contacts` row (`%-46.46s %-10.10s %-7.7s %11.3f`).
fn contact_row(contact: &Object) -> String {
    contact_line(contact, "  Contact:  ", 46)
}

/// A contact row with its label and name width: 46 at the top of
/// `pjsip show contacts`, 42 nested under an endpoint.
pub(crate) fn contact_line(contact: &Object, label: &str, width: usize) -> String {
    let (aor, hash) = contact.id().split_once(";@").unwrap_or((contact.id(), ""));
    let name: String = format!("{aor}/{}", contact.str("uri").unwrap_or(""))
        .chars()
        .take(width)
        .collect();
    let hash: String = hash.chars().take(10).collect();
    // Qualified contacts show their state and round trip in ms, as Asterisk.
    let (status, rtt) = match crate::qualify::result_of(contact.id()) {
        None => ("NonQual", "nan".to_owned()),
        Some((true, rtt)) => (
            "Avail",
            format!("{:.3}", rtt.unwrap_or_default().as_secs_f64() * 1000.0),
        ),
        Some((false, _)) => ("Unavail", "nan".to_owned()),
    };
    format!("{label}{name:<width$} {hash:<10} {status:<7} {rtt:>11}\n")
}

/// The header of the contact tables.
fn contacts_header() -> String {
    format!(
        "\n  Contact:  <Aor/ContactUri..............................> <Hash....> <Status> <RTT(ms)..>\n{RULE}\n\n"
    )
}

/// The contact id a `pjsip show contact` argument names: `aor/uri` (as
/// the tables print it) or the id itself (`aor;@hash`).
fn named_contact(name: &str) -> String {
    match name.split_once('/') {
        Some((aor, uri)) if !aor.contains(";@") => contact_id(aor, uri),
        _ => name.to_owned(),
    }
}

/// `pjsip show contacts [like <regex>]`, `pjsip show contact <name>` and
/// `pjsip show transports`.
pub fn commands(service: &Arc<SorceryService>) -> Vec<CliCommand> {
    let contacts = crate::show::with_sorcery(
        service,
        "pjsip show contacts",
        "List PJSIP Contacts",
        "Usage: pjsip show contacts [like <regex>]\n       List (or filter) the PJSIP contacts.",
        |sorcery, args| async move {
            let mut list = match args.as_slice() {
                [] => sorcery.retrieve_all("contact").await,
                [like, re] if like.eq_ignore_ascii_case("like") => {
                    sorcery.retrieve_by_regex("contact", re).await
                }
                _ => return Err(CliError::ShowUsage),
            }
            .map_err(failed)?;
            if list.is_empty() {
                return Ok("No objects found.\n".into());
            }
            list.sort_by(|a, b| a.id().cmp(b.id()));
            let mut out = contacts_header();
            for c in &list {
                out.push_str(&contact_row(c));
            }
            let _ = write!(out, "\nObjects found: {}\n", list.len());
            Ok(out)
        },
    )
    .with_args();
    let contact = crate::show::with_sorcery(
        service,
        "pjsip show contact",
        "Show PJSIP Contact(s) detail",
        "Usage: pjsip show contact <aor/uri>\n       Show the PJSIP contact with its options (its path among them).",
        |sorcery, args| async move {
            let [name] = args.as_slice() else {
                return Err(CliError::ShowUsage);
            };
            let found = sorcery
                .retrieve_by_id("contact", &named_contact(name))
                .await
                .map_err(failed)?;
            let Some(contact) = found else {
                return Ok(format!("Unable to find object {name}.\n\n"));
            };
            let mut out = contacts_header();
            out.push_str(&contact_row(&contact));
            out.push_str(&crate::show::parameters(&contact));
            Ok(out)
        },
    )
    .with_args();
    let transports = crate::show::with_sorcery(
        service,
        "pjsip show transports",
        "List PJSIP Transports",
        "Usage: pjsip show transports\n       List the PJSIP transports.",
        |sorcery, _| async move {
            let mut list = sorcery.retrieve_all("transport").await.map_err(failed)?;
            if list.is_empty() {
                return Ok("No objects found.\n".into());
            }
            list.sort_by(|a, b| a.id().cmp(b.id()));
            let mut out = format!(
                "\nTransport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress....................>\n{RULE}\n\n"
            );
            for t in &list {
                let tos = t.str("tos").unwrap_or("0");
                let tos = tos.parse::<u32>().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "Transport:  {:<21}  {:>6}  {:>5}  {:>5}  {}",
                    t.id(),
                    t.str("protocol").unwrap_or("udp"),
                    t.uint("cos").unwrap_or(0),
                    tos,
                    t.str("bind").unwrap_or("")
                );
            }
            let _ = write!(out, "\nObjects found: {}\n", list.len());
            Ok(out)
        },
    );
    vec![contacts, contact, transports]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// realtime.md §7: `<aor>;@<md5(uri)>`.
    #[test]
    fn contact_id_is_aor_and_md5_of_uri() {
        assert_eq!(
            contact_id("101", "sip:101@127.0.0.1:5060"),
            format!(
                "101;@{}",
                Algorithm::Md5.hash(&[b"sip:101@127.0.0.1:5060".as_slice()])
            )
        );
        assert_eq!(contact_id("101", "x").len(), 5 + 32);
    }

    /// `pjsip show contact` takes the name the tables print or the id.
    #[test]
    fn contacts_are_named_by_aor_and_uri_or_by_id() {
        let id = contact_id("101", "sip:101@192.0.2.5:5060;ob");
        assert_eq!(named_contact("101/sip:101@192.0.2.5:5060;ob"), id);
        assert_eq!(named_contact(&id), id);
    }
}
