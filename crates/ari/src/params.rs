//! Request parameters, merged as Asterisk merges them: the query string, a
//! form body, and the top-level keys of a JSON body all count as query
//! parameters (`{"channel": "1.2"}` is `?channel=1.2`); the JSON body as a
//! whole is also the operation's `body` parameter (`variables`, `fields`).
//! [`Params::validate`] checks them against the route table before the
//! handler runs, so handlers read typed values.

use serde_json::{Map, Value};

use crate::api::{Allowed, DefaultValue, Operation, ParamKind};
use crate::error::AriError;
use obelus_core::settings::parse_bool;

/// The most values an `allowMultiple` parameter may carry (Asterisk's
/// `MAX_VALS`).
const MAX_VALUES: usize = 128;

/// The parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Vec<(String, String)>,
    path: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Params {
    /// Reads the query string and the body. A body that is neither a form
    /// nor JSON is refused (400), as is unparsable JSON.
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, AriError> {
        let mut params = Params::default();
        if let Some(query) = query {
            params
                .values
                .extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        let body_text = std::str::from_utf8(body)
            .map_err(|_| AriError::bad_request("Error parsing request body"))?;
        if body_text.trim().is_empty() {
            return Ok(params);
        }
        let form = content_type.is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if form {
            params
                .values
                .extend(form_urlencoded::parse(body).into_owned());
            return Ok(params);
        }
        let json: Value = serde_json::from_str(body_text)
            .map_err(|e| AriError::bad_request(format!("Error parsing request body: {e}")))?;
        if let Value::Object(map) = &json {
            for (key, value) in map {
                if let Some(text) = scalar(value) {
                    params.values.push((key.clone(), text));
                }
            }
        }
        params.body = Some(json);
        Ok(params)
    }

    /// Adds the `{name}` segments the router matched.
    pub fn with_path(mut self, path: Vec<(&'static str, String)>) -> Params {
        self.path = path;
        self
    }

    /// A path parameter; the router guarantees the ones of the operation.
    pub fn path(&self, name: &str) -> &str {
        self.path
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A query parameter (the last one given wins), empty values included.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter with a non-empty value.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A non-empty query parameter, or 400 with `message`.
    pub fn require(&self, name: &str, message: &str) -> Result<&str, AriError> {
        self.string(name)
            .ok_or_else(|| AriError::bad_request(message))
    }

    /// An integer parameter (already validated, so a bad value reads as absent).
    pub fn int(&self, name: &str) -> Option<i64> {
        self.string(name).and_then(|v| v.trim().parse().ok())
    }

    /// A boolean parameter, with Asterisk's truthiness.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).and_then(parse_bool)
    }

    /// An `allowMultiple` parameter, split at commas.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The JSON body, if one was sent.
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// The object under `key` of the JSON body (`variables`).
    pub fn body_object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.body.as_ref()?.get(key)?.as_object()
    }

    /// Checks the parameters against the operation: required ones present,
    /// numbers and booleans well formed, values allowed, lists not too
    /// long. Defaults of absent parameters are filled in.
    pub fn validate(&mut self, op: &Operation) -> Result<(), AriError> {
        for param in op.params {
            match param.kind {
                ParamKind::Path => continue,
                ParamKind::Body => {
                    if param.required && self.body_object(param.name).is_none() {
                        return Err(AriError::bad_request(format!(
                            "HTTP request is missing param: [{}]",
                            param.name
                        )));
                    }
                    continue;
                }
                ParamKind::Query => {}
            }
            let Some(value) = self.get(param.name).map(str::to_owned) else {
                if param.required {
                    return Err(AriError::bad_request(missing_message(param.name)));
                }
                if let Some(default) = param.default {
                    let text = match default {
                        DefaultValue::Int(n) => n.to_string(),
                        DefaultValue::Bool(b) => b.to_string(),
                        DefaultValue::Str(s) => s.to_owned(),
                    };
                    self.values.push((param.name.to_owned(), text));
                }
                continue;
            };
            if value.is_empty() {
                if param.required {
                    return Err(AriError::bad_request(missing_message(param.name)));
                }
                continue;
            }
            let items: Vec<&str> = if param.multiple {
                value.split(',').map(str::trim).collect()
            } else {
                vec![value.as_str()]
            };
            if items.len() > MAX_VALUES {
                return Err(AriError::bad_request(format!(
                    "Too many values for {}",
                    param.name
                )));
            }
            for item in items {
                check_value(param.name, param.data_type, param.allowed, item)?;
            }
        }
        Ok(())
    }
}

/// A JSON body value as a query parameter: strings as they are, numbers and
/// booleans in their JSON spelling, arrays of those joined with commas.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Array(_) => None,
                other => scalar(other),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        Value::Null | Value::Object(_) => None,
    }
}

/// The 400 text for a missing parameter: the handler's own wording where
/// Asterisk's handlers have one, its generic one otherwise.
fn missing_message(name: &str) -> String {
    match name {
        "endpoint" => "Endpoint must be specified".to_owned(),
        "variable" => "Variable name is required".to_owned(),
        "eventSource" => "Missing parameter eventSource".to_owned(),
        _ => format!("HTTP request is missing param: [{name}]"),
    }
}

fn check_value(name: &str, data_type: &str, allowed: Allowed, value: &str) -> Result<(), AriError> {
    let invalid = || AriError::bad_request(format!("Invalid value for {name}: '{value}'"));
    match data_type {
        "int" | "long" => {
            let n: i64 = value.trim().parse().map_err(|_| invalid())?;
            if let Allowed::Range { min, max } = allowed
                && (min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m))
            {
                return Err(invalid());
            }
        }
        "boolean" => {
            parse_bool(value).ok_or_else(invalid)?;
        }
        _ => {
            if let Allowed::List(values) = allowed
                && !values.contains(&value)
            {
                return Err(invalid());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Method;
    use crate::api::find;

    fn op(path: &str, method: Method) -> &'static Operation {
        find(path)
            .and_then(|r| r.operation(method))
            .expect("operation")
    }

    #[test]
    fn query_form_and_json_merge() {
        let p = Params::parse(
            Some("a=1&media=sound:x,sound:y"),
            Some("application/json"),
            br#"{"channel":"1.2","n":5,"b":true,"l":["x","y"],"variables":{"X":"1"}}"#,
        )
        .expect("parses");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("channel"), Some("1.2"));
        assert_eq!(p.int("n"), Some(5));
        assert_eq!(p.bool("b"), Some(true));
        assert_eq!(p.list("l"), vec!["x", "y"]);
        assert_eq!(p.list("media"), vec!["sound:x", "sound:y"]);
        assert_eq!(
            p.body_object("variables").and_then(|v| v["X"].as_str()),
            Some("1")
        );
        let form = Params::parse(None, Some("application/x-www-form-urlencoded"), b"x=a%20b")
            .expect("parses");
        assert_eq!(form.get("x"), Some("a b"));
    }

    #[test]
    fn bad_json_is_400() {
        let e = Params::parse(None, None, b"{nope").expect_err("refused");
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn validation_uses_the_table() {
        let originate = op("/channels", Method::Post);
        let mut p = Params::parse(Some("extension=1"), None, b"").expect("parses");
        assert_eq!(
            p.validate(originate).expect_err("missing").message,
            "Endpoint must be specified"
        );
        let mut p = Params::parse(Some("endpoint=Test/1&timeout=x"), None, b"").expect("parses");
        assert_eq!(
            p.validate(originate).expect_err("bad int").message,
            "Invalid value for timeout: 'x'"
        );
        let mut p = Params::parse(Some("endpoint=Test/1"), None, b"").expect("parses");
        p.validate(originate).expect("valid");
        assert_eq!(p.int("timeout"), Some(30));
        let hangup = op("/channels/1", Method::Delete);
        let mut p = Params::parse(Some("reason=sleepy"), None, b"").expect("parses");
        assert!(p.validate(hangup).is_err());
        let record = op("/channels/1/record", Method::Post);
        let mut p = Params::parse(Some("name=a&format=wav&maxDurationSeconds=-1"), None, b"")
            .expect("parses");
        assert!(p.validate(record).is_err());
        let info = op("/asterisk/info", Method::Get);
        let mut p = Params::parse(Some("only=build,status"), None, b"").expect("parses");
        p.validate(info).expect("valid list");
        let mut p = Params::parse(Some("only=build,nope"), None, b"").expect("parses");
        assert!(p.validate(info).is_err());
    }
}
