//! Event filters: `eventfilter` lines of a `manager.conf` user and the
//! `Filter` action, in both of Asterisk's syntaxes.
//!
//! - Legacy: `eventfilter = <regex>` includes events whose whole text
//!   matches, `eventfilter = !<regex>` excludes them.
//! - Advanced (Asterisk 21+): `eventfilter(action(include|exclude),
//!   name(Event), header(Key), method(regex|exact|starts_with|ends_with|
//!   contains|none)) = <expression>`. `name` compares the event name
//!   without looking at its text, `header` applies the expression to that
//!   header's value only (an event without the header never matches), and
//!   the method says how the expression is compared. In the `Filter`
//!   action the criteria come in `MatchCriteria:` and the method may be
//!   given bare (`startsWith`).
//!
//! How a set of filters decides ([`passes`]): none lets everything
//! through; includes only: an event must match one; excludes only: an
//! event matching one is dropped; both: includes first, then excludes.

use regex::Regex;

use crate::render::AmiEvent;

/// Why a filter was refused; the texts are Asterisk's `Filter` errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The regular expression is invalid.
    #[error("Filter did not compile.  Check the syntax of the filter given.")]
    Compile,
    /// The criteria are not understood (unknown or repeated criterion,
    /// missing expression).
    #[error("Filter was formatted incorrectly.  Check the syntax of the filter given.")]
    Format,
}

/// How the expression is compared with the event (or header) text.
#[derive(Debug, Clone)]
enum Method {
    Regex(Regex),
    Exact(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    /// No expression: the name and header criteria alone decide.
    None,
}

/// One filter.
#[derive(Debug, Clone)]
pub struct EventFilter {
    include: bool,
    name: Option<String>,
    header: Option<String>,
    method: Method,
}

fn regex(pattern: &str) -> Result<Regex, FilterError> {
    Regex::new(pattern).map_err(|_| FilterError::Compile)
}

/// The text inside `word(...)`, if `item` has that shape.
fn argument<'a>(item: &'a str, word: &str) -> Option<&'a str> {
    let rest = item.get(..word.len())?;
    if !rest.eq_ignore_ascii_case(word) {
        return None;
    }
    item[word.len()..]
        .trim()
        .strip_prefix('(')?
        .strip_suffix(')')
        .map(str::trim)
}

/// The method names Asterisk accepts, in `method(...)` or bare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MethodName {
    Regex,
    Exact,
    StartsWith,
    EndsWith,
    Contains,
    None,
}

fn method_name(word: &str) -> Option<MethodName> {
    let word: String = word
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match word.as_str() {
        "regex" => MethodName::Regex,
        "exact" => MethodName::Exact,
        "startswith" => MethodName::StartsWith,
        "endswith" => MethodName::EndsWith,
        "contains" => MethodName::Contains,
        "none" => MethodName::None,
        _ => return None,
    })
}

/// Sets a criterion once; a second one of the same kind is a format error.
fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), FilterError> {
    if slot.is_some() {
        return Err(FilterError::Format);
    }
    *slot = Some(value);
    Ok(())
}

impl EventFilter {
    /// A legacy filter: a regular expression on the whole event text,
    /// excluding when it starts with `!`.
    pub fn legacy(expression: &str) -> Result<Self, FilterError> {
        let (include, pattern) = match expression.strip_prefix('!') {
            Some(p) => (false, p),
            None => (true, expression),
        };
        if pattern.is_empty() {
            return Err(FilterError::Format);
        }
        Ok(Self {
            include,
            name: None,
            header: None,
            method: Method::Regex(regex(pattern)?),
        })
    }

    /// An advanced filter from its criteria (`action(exclude),name(Hangup)`,
    /// without the outer parentheses) and its expression.
    pub fn advanced(criteria: &str, expression: &str) -> Result<Self, FilterError> {
        let (mut action, mut name, mut header, mut method) = (None, None, None, None);
        for item in criteria.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(a) = argument(item, "action") {
                let include = match a.to_ascii_lowercase().as_str() {
                    "include" => true,
                    "exclude" => false,
                    _ => return Err(FilterError::Format),
                };
                once(&mut action, include)?;
            } else if let Some(n) = argument(item, "name") {
                if n.is_empty() {
                    return Err(FilterError::Format);
                }
                once(&mut name, n.to_owned())?;
            } else if let Some(h) = argument(item, "header") {
                if h.is_empty() {
                    return Err(FilterError::Format);
                }
                once(&mut header, h.to_owned())?;
            } else if let Some(m) = argument(item, "method") {
                once(&mut method, method_name(m).ok_or(FilterError::Format)?)?;
            } else if let Some(m) = method_name(item) {
                once(&mut method, m)?;
            } else {
                return Err(FilterError::Format);
            }
        }
        // Without a method, an expression is a regular expression and no
        // expression means none.
        let method = method.unwrap_or(if expression.is_empty() {
            MethodName::None
        } else {
            MethodName::Regex
        });
        if method != MethodName::None && expression.is_empty() {
            return Err(FilterError::Format);
        }
        let text = expression.to_owned();
        Ok(Self {
            include: action.unwrap_or(true),
            name,
            header,
            method: match method {
                MethodName::Regex => Method::Regex(regex(expression)?),
                MethodName::Exact => Method::Exact(text),
                MethodName::StartsWith => Method::StartsWith(text),
                MethodName::EndsWith => Method::EndsWith(text),
                MethodName::Contains => Method::Contains(text),
                MethodName::None => Method::None,
            },
        })
    }

    /// A `manager.conf` line: `eventfilter = ...` (legacy) or
    /// `eventfilter(<criteria>) = ...` (advanced). `None` if the option is
    /// not an event filter.
    pub fn from_conf(option: &str, value: &str) -> Option<Result<Self, FilterError>> {
        let prefix = option.get(..11)?;
        if !prefix.eq_ignore_ascii_case("eventfilter") {
            return None;
        }
        let rest = option[11..].trim();
        if rest.is_empty() {
            return Some(Self::legacy(value));
        }
        let criteria = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
        Some(match criteria {
            Some(criteria) => Self::advanced(criteria, value),
            None => Err(FilterError::Format),
        })
    }

    /// Whether the filter includes (true) or excludes matching events.
    pub fn is_include(&self) -> bool {
        self.include
    }

    /// Whether the event matches the criteria and the expression.
    pub fn matches(&self, event: &AmiEvent) -> bool {
        if let Some(name) = &self.name
            && !name.eq_ignore_ascii_case(event.name)
        {
            return false;
        }
        let subject = match &self.header {
            Some(header) => match header_value(&event.text, header) {
                Some(value) => value,
                None => return false,
            },
            None => &event.text,
        };
        match &self.method {
            Method::Regex(re) => re.is_match(subject),
            Method::Exact(s) => subject == s,
            Method::StartsWith(s) => subject.starts_with(s.as_str()),
            Method::EndsWith(s) => subject.ends_with(s.as_str()),
            Method::Contains(s) => subject.contains(s.as_str()),
            Method::None => true,
        }
    }
}

/// The value of the first `key` header of an event's text (key compared
/// case-insensitively, as AMI keys are).
fn header_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.eq_ignore_ascii_case(key).then(|| v.trim_start())
    })
}

/// Whether an event passes a session's filters.
pub fn passes(filters: &[EventFilter], event: &AmiEvent) -> bool {
    if filters.is_empty() {
        return true;
    }
    let mut has_include = false;
    let mut included = false;
    for filter in filters.iter().filter(|f| f.include) {
        has_include = true;
        if filter.matches(event) {
            included = true;
            break;
        }
    }
    if has_include && !included {
        return false;
    }
    !filters.iter().any(|f| !f.include && f.matches(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes;

    fn event(name: &'static str, text: &str) -> AmiEvent {
        AmiEvent {
            class: classes::CALL,
            name,
            text: text.into(),
        }
    }

    fn newchannel(channel: &str) -> AmiEvent {
        event(
            "Newchannel",
            &format!(
                "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: {channel}\r\nUniqueid: 1.1\r\n\r\n"
            ),
        )
    }

    #[test]
    fn legacy_filters_match_the_whole_text() {
        let include = EventFilter::legacy("Event: Newchannel").unwrap();
        let exclude = EventFilter::legacy("!Channel: DAHDI/").unwrap();
        assert!(include.is_include() && !exclude.is_include());
        let sip = newchannel("PJSIP/101-00000001");
        let dahdi = newchannel("DAHDI/1-1");
        let hangup = event("Hangup", "Event: Hangup\r\nChannel: PJSIP/1\r\n\r\n");
        let both = [include.clone(), exclude.clone()];
        assert!(passes(&both, &sip));
        assert!(!passes(&both, &dahdi), "excludes apply after includes");
        assert!(!passes(&both, &hangup), "includes only: must match one");
        assert!(passes(&[exclude], &hangup), "excludes only: the rest pass");
        assert!(passes(&[], &hangup));
        assert_eq!(EventFilter::legacy("(").unwrap_err(), FilterError::Compile);
        assert_eq!(EventFilter::legacy("!").unwrap_err(), FilterError::Format);
    }

    #[test]
    fn advanced_filters_use_name_header_and_method() {
        let f = EventFilter::from_conf(
            "eventfilter(action(exclude),name(Newchannel),header(Channel),method(starts_with))",
            "DAHDI/",
        )
        .unwrap()
        .unwrap();
        assert!(!f.is_include());
        assert!(f.matches(&newchannel("DAHDI/1-1")));
        assert!(!f.matches(&newchannel("PJSIP/DAHDI/")), "only the start");
        assert!(
            !f.matches(&event(
                "Hangup",
                "Event: Hangup\r\nChannel: DAHDI/1\r\n\r\n"
            )),
            "only the named event"
        );

        let by_name = EventFilter::advanced("name(hangup)", "").unwrap();
        assert!(by_name.matches(&event("Hangup", "Event: Hangup\r\n\r\n")));
        assert!(!by_name.matches(&newchannel("x")));

        let header_only =
            EventFilter::advanced("header(Uniqueid),method(none)", "ignored").unwrap();
        assert!(header_only.matches(&newchannel("x")));
        assert!(!header_only.matches(&event("Hangup", "Event: Hangup\r\n\r\n")));

        for (criteria, value, channel, expected) in [
            ("header(Channel),method(exact)", "PJSIP/1", "PJSIP/1", true),
            (
                "header(Channel),method(exact)",
                "PJSIP/1",
                "PJSIP/12",
                false,
            ),
            ("header(channel),endsWith", "-01", "PJSIP/a-01", true),
            ("header(Channel),contains", "SIP/a", "PJSIP/a-01", true),
            (
                "header(Channel),method(contains)",
                "IAX",
                "PJSIP/a-01",
                false,
            ),
            ("header(Channel)", "^PJ.*01$", "PJSIP/a-01", true),
            ("header(Channel),method(regex)", "^SIP", "PJSIP/a-01", false),
        ] {
            let f = EventFilter::advanced(criteria, value).unwrap();
            assert_eq!(f.matches(&newchannel(channel)), expected, "{criteria}");
        }
    }

    #[test]
    fn bad_criteria_are_refused() {
        for criteria in [
            "action(maybe)",
            "name(a),name(b)",
            "color(red)",
            "method(fuzzy)",
            "header()",
        ] {
            assert_eq!(
                EventFilter::advanced(criteria, "x").unwrap_err(),
                FilterError::Format,
                "{criteria}"
            );
        }
        assert_eq!(
            EventFilter::advanced("method(exact)", "").unwrap_err(),
            FilterError::Format
        );
        assert_eq!(
            EventFilter::advanced("header(Channel)", "[").unwrap_err(),
            FilterError::Compile
        );
        assert!(EventFilter::from_conf("secret", "x").is_none());
        assert!(
            EventFilter::from_conf("eventfilter(name(x)", "")
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn manager_conf_keeps_the_case_of_criteria() {
        let config = obelus_conf::parse_str(
            "manager.conf",
            "[u]\neventfilter(action(include),name(Newchannel),header(Channel),method(starts_with)) = PJSIP/\n",
        )
        .unwrap();
        let category = config.categories().next().unwrap();
        let var = &category.variables()[0];
        let f = EventFilter::from_conf(&var.name, var.value.trim())
            .unwrap()
            .unwrap();
        assert!(f.matches(&newchannel("PJSIP/1")));
    }
}
