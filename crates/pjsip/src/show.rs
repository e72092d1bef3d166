//! `pjsip show endpoints|endpoint|aors|aor|auths|auth`, laid out as
//! Asterisk lays them out (90 columns; scripts parse these tables).

use std::fmt::Write as _;
use std::sync::Arc;

use obelus_core::channel::Channels;
use obelus_core::cli::{CliCommand, CliError};
use obelus_sorcery::{Object, Sorcery, SorceryService};

pub(crate) const RULE: &str =
    "==========================================================================================";

/// A label right-aligned for its nesting level (top 9, child 11, grandchild 13).
fn label(level: usize, name: &str) -> String {
    format!("{name:>width$}:  ", width = 9 + 2 * level)
}

/// `101` or `101/5551234` when the endpoint has a caller id number.
fn endpoint_name(endpoint: &Object) -> String {
    let callerid = endpoint.str("callerid").unwrap_or("");
    let number = match (callerid.find('<'), callerid.find('>')) {
        (Some(a), Some(b)) if b > a => &callerid[a + 1..b],
        _ => callerid.trim_matches('"'),
    };
    if number.is_empty() || number.contains(' ') {
        endpoint.id().to_owned()
    } else {
        format!("{}/{number}", endpoint.id())
    }
}

async fn contacts_of(sorcery: &Sorcery, aor: &str) -> Vec<Arc<Object>> {
    sorcery
        .retrieve_by_prefix("contact", &format!("{aor};@"))
        .await
        .unwrap_or_default()
}

/// How `pjsip show endpoints` words a device state.
fn state_text(state: &str) -> &'static str {
    match state {
        "NOT_INUSE" => "Not in use",
        "INUSE" => "In use",
        "BUSY" => "Busy",
        "RINGING" => "Ringing",
        "RINGINUSE" => "Ring+Inuse",
        "ONHOLD" => "On Hold",
        "UNAVAILABLE" => "Unavailable",
        "INVALID" => "Invalid",
        _ => "Unknown",
    }
}

async fn endpoint_block(
    sorcery: &Sorcery,
    channels: &Channels,
    endpoint: &Object,
    out: &mut String,
) {
    let mut contacts = Vec::new();
    for aor in endpoint.list("aors") {
        contacts.push((aor, contacts_of(sorcery, aor).await));
    }
    let reachable = contacts.iter().any(|(_, c)| !c.is_empty());
    let device = format!("PJSIP/{}", endpoint.id());
    let live = channels.with_prefix(&format!("{device}-"));
    let state = match channels.devices().state(&device) {
        "NOT_INUSE" if !reachable && live.is_empty() => "Unavailable",
        other => state_text(other),
    };
    let busy_at = match endpoint.uint("device_state_busy_at").unwrap_or(0) {
        0 => "inf".to_owned(),
        n => n.to_string(),
    };
    let _ = writeln!(
        out,
        "{}{:<51}  {state:<12}  {} of {busy_at}",
        label(0, "Endpoint"),
        endpoint_name(endpoint),
        live.len()
    );
    for (kind, key) in [("InAuth", "auth"), ("OutAuth", "outbound_auth")] {
        for id in endpoint.list(key) {
            let username = match sorcery.retrieve_by_id("auth", id).await {
                Ok(Some(auth)) => auth.str("username").unwrap_or("").to_owned(),
                _ => String::new(),
            };
            let _ = writeln!(out, "{}{id}/{username}", label(1, kind));
        }
    }
    for (aor, registered) in &contacts {
        let max = match sorcery.retrieve_by_id("aor", aor).await {
            Ok(Some(a)) => a.uint("max_contacts").unwrap_or(0),
            _ => 0,
        };
        let _ = writeln!(out, "{}{aor:<49}  {max}", label(1, "Aor"));
        for contact in registered {
            out.push_str(&crate::contacts::contact_line(
                contact,
                &label(2, "Contact"),
                42,
            ));
        }
    }
    for channel in &live {
        let s = channel.snapshot();
        let _ = writeln!(
            out,
            "{}{:<49}  {:<12}  {}",
            label(1, "Channel"),
            s.name,
            s.state.name(),
            s.age_secs()
        );
    }
    out.push('\n');
}

/// The legend above `pjsip show endpoints`, exactly as Asterisk prints it.
fn endpoints_header() -> String {
    [
        "",
        " Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>",
        "    I/OAuth:  <AuthId/UserName...........................................................>",
        "        Aor:  <Aor............................................>  <MaxContact>",
        "      Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>",
        "  Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress..................>",
        "   Identify:  <Identify/Endpoint.........................................................>",
        "        Match:  <criteria.........................>",
        "    Channel:  <ChannelId......................................>  <State.....>  <Time.....>",
        "        Exten: <DialedExten...........>  CLCID: <ConnectedLineCID.......>",
        RULE,
        "",
        "",
    ]
    .join("\n")
}

/// The `ParameterName : value` dump of one object; the rule under the
/// header is as wide as the widest name and value (at least
/// `ParameterValue`), as Asterisk draws it.
pub(crate) fn parameters(object: &Object) -> String {
    let fields = object.to_fields();
    let width = fields
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(13)
        .max(13);
    let values = fields
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0)
        .max(14);
    let mut out = format!(
        "\n {:<width$} : ParameterValue\n {}\n",
        "ParameterName",
        "=".repeat(width + 3 + values)
    );
    for (name, value) in fields {
        let _ = writeln!(out, " {name:<width$} : {value}");
    }
    out
}

fn aors_header() -> String {
    format!(
        "\n{}<Aor..............................................>  <MaxContact>\n{}<Aor/ContactUri............................> <Hash....> <Status> <RTT(ms)..>\n{RULE}\n\n",
        label(0, "Aor"),
        label(1, "Contact")
    )
}

fn auths_header() -> String {
    format!(
        "\n{}<AuthId/UserName.............................................................>\n{RULE}\n\n",
        label(0, "I/OAuth")
    )
}

pub(crate) fn footer(n: usize) -> String {
    if n == 0 {
        "No objects found.\n".to_owned()
    } else {
        format!("\nObjects found: {n}\n")
    }
}

fn current(service: &SorceryService) -> Result<Arc<Sorcery>, CliError> {
    service
        .get()
        .ok_or_else(|| CliError::Failed("res_pjsip is not loaded.".into()))
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("Unable to retrieve objects: {e}"))
}

/// A command whose handler needs sorcery: the handler gets the sorcery in
/// force and the arguments; "not loaded" is answered for it.
pub(crate) fn with_sorcery<F, Fut>(
    service: &Arc<SorceryService>,
    words: &str,
    summary: &str,
    usage: &str,
    f: F,
) -> CliCommand
where
    F: Fn(Arc<Sorcery>, Vec<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, CliError>> + Send + 'static,
{
    let service = Arc::clone(service);
    let f = Arc::new(f);
    CliCommand::new(words, summary, usage, move |args| {
        let service = Arc::clone(&service);
        let f = Arc::clone(&f);
        async move { f(current(&service)?, args.args).await }
    })
}

/// The commands, bound to the sorcery service and the live channels.
pub fn commands(service: &Arc<SorceryService>, channels: &Arc<Channels>) -> Vec<CliCommand> {
    let chans = Arc::clone(channels);
    let endpoints = with_sorcery(
        service,
        "pjsip show endpoints",
        "List PJSIP Endpoints",
        "Usage: pjsip show endpoints [like <regex>]\n       List (or filter) the PJSIP endpoints.",
        move |sorcery, args| {
            let channels = Arc::clone(&chans);
            async move {
                let list = match args.as_slice() {
                    [] => sorcery.retrieve_all("endpoint").await,
                    [like, re] if like.eq_ignore_ascii_case("like") => {
                        sorcery.retrieve_by_regex("endpoint", re).await
                    }
                    _ => return Err(CliError::ShowUsage),
                }
                .map_err(failed)?;
                if list.is_empty() {
                    return Ok("No objects found.\n".into());
                }
                let mut out = endpoints_header();
                for endpoint in &list {
                    endpoint_block(&sorcery, &channels, endpoint, &mut out).await;
                }
                out.push_str(&footer(list.len()));
                Ok(out)
            }
        },
    )
    .with_args();

    let chans = Arc::clone(channels);
    let endpoint = with_sorcery(
        service,
        "pjsip show endpoint",
        "Show PJSIP Endpoint(s) detail",
        "Usage: pjsip show endpoint <id>\n       Show the PJSIP endpoint with all its options.",
        move |sorcery, args| {
            let channels = Arc::clone(&chans);
            async move {
                let [id] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let Some(endpoint) = sorcery
                    .retrieve_by_id("endpoint", id)
                    .await
                    .map_err(failed)?
                else {
                    return Ok(format!("Unable to find object {id}.\n\n"));
                };
                let mut out = endpoints_header();
                endpoint_block(&sorcery, &channels, &endpoint, &mut out).await;
                out.push_str(&parameters(&endpoint));
                Ok(out)
            }
        },
    )
    .with_args();

    let aors = with_sorcery(
        service,
        "pjsip show aors",
        "List PJSIP Aors",
        "Usage: pjsip show aors\n       List the PJSIP address of record objects.",
        |sorcery, _| async move {
            let list = sorcery.retrieve_all("aor").await.map_err(failed)?;
            if list.is_empty() {
                return Ok("No objects found.\n".into());
            }
            let mut out = aors_header();
            for aor in &list {
                let _ = writeln!(
                    out,
                    "{}{:<51}  {}\n",
                    label(0, "Aor"),
                    aor.id(),
                    aor.uint("max_contacts").unwrap_or(0)
                );
            }
            out.push_str(&footer(list.len()));
            Ok(out)
        },
    );

    let auths = with_sorcery(
        service,
        "pjsip show auths",
        "List PJSIP Auths",
        "Usage: pjsip show auths\n       List the PJSIP authentication objects.",
        |sorcery, _| async move {
            let list = sorcery.retrieve_all("auth").await.map_err(failed)?;
            if list.is_empty() {
                return Ok("No objects found.\n".into());
            }
            let mut out = auths_header();
            for auth in &list {
                let _ = writeln!(
                    out,
                    "{}{}/{}\n",
                    label(0, "Auth"),
                    auth.id(),
                    auth.str("username").unwrap_or("")
                );
            }
            out.push_str(&footer(list.len()));
            Ok(out)
        },
    );
    let aor = with_sorcery(
        service,
        "pjsip show aor",
        "Show PJSIP Aor(s) detail",
        "Usage: pjsip show aor <id>\n       Show the PJSIP address of record with its contacts and options.",
        |sorcery, args| async move {
                let [id] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let Some(aor) = sorcery.retrieve_by_id("aor", id).await.map_err(failed)? else {
                    return Ok(format!("Unable to find object {id}.\n\n"));
                };
                let mut out = aors_header();
                let _ = writeln!(out, "{}{:<51}  {}", label(0, "Aor"), aor.id(), aor.uint("max_contacts").unwrap_or(0));
                for contact in contacts_of(&sorcery, aor.id()).await {
                    out.push_str(&crate::contacts::contact_line(&contact, &label(1, "Contact"), 44));
                }
                out.push('\n');
                out.push_str(&parameters(&aor));
                Ok(out)
        },
    )
    .with_args();

    let auth = with_sorcery(
        service,
        "pjsip show auth",
        "Show PJSIP Auth(s) detail",
        "Usage: pjsip show auth <id>\n       Show the PJSIP authentication object with its options.",
        |sorcery, args| async move {
                let [id] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let Some(auth) = sorcery.retrieve_by_id("auth", id).await.map_err(failed)? else {
                    return Ok(format!("Unable to find object {id}.\n\n"));
                };
                let mut out = auths_header();
                let _ = writeln!(out, "{}{}/{}", label(0, "Auth"), auth.id(), auth.str("username").unwrap_or(""));
                out.push_str(&parameters(&auth));
                Ok(out)
        },
    )
    .with_args();
    let identifies = with_sorcery(
        service,
        "pjsip show identifies",
        "List PJSIP Identifies",
        "Usage: pjsip show identifies [like <regex>]\n       List (or filter) the PJSIP identifies.",
        |sorcery, args| async move {
            let list = match args.as_slice() {
                [] => sorcery.retrieve_all("identify").await,
                [like, re] if like.eq_ignore_ascii_case("like") => {
                    sorcery.retrieve_by_regex("identify", re).await
                }
                _ => return Err(CliError::ShowUsage),
            }
            .map_err(failed)?;
            if list.is_empty() {
                return Ok("No objects found.\n".into());
            }
            let mut out = format!(
                "\n  Identify:  <Identify/Endpoint{}>\n      Match:  <criteria{}>\n{RULE}\n",
                ".".repeat(59),
                ".".repeat(25)
            );
            for identify in list.iter() {
                out.push_str(&format!(
                    "\n  Identify:  {}/{}\n",
                    identify.id(),
                    identify.str("endpoint").unwrap_or("")
                ));
                for entry in identify.list("match") {
                    out.push_str(&format!("      Match: {entry}\n"));
                }
                if let Some(h) = identify.str("match_header").filter(|h| !h.is_empty()) {
                    out.push_str(&format!("      Match: {h}\n"));
                }
            }
            out.push_str(&footer(list.len()));
            Ok(out)
        },
    )
    .with_args();
    vec![endpoints, endpoint, aors, aor, auths, auth, identifies]
}
