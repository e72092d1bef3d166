//! The ARI route table and what is generated from it: the Swagger 1.1
//! documents clients load at start-up (`resources.json` and one document per
//! resource) and the path matching the router does.
//!
//! Client libraries (`ari-client`, `aioari`, `asyncari`) build their whole
//! API from the Swagger documents, so an operation missing from the table is
//! a method missing in every client. The table therefore holds every
//! operation of the published API, implemented or not; the router answers
//! the unimplemented ones with 501.

mod table;

use serde_json::{Map, Value, json};

pub(crate) use table::RESOURCES;

/// The `apiVersion` of every per-resource document.
const API_VERSION: &str = "2.0.0";
/// The `apiVersion` of the resource listing.
const LISTING_API_VERSION: &str = "11.0.0";

/// HTTP methods ARI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method as written in HTTP and in Swagger's `httpMethod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// The method of a request, if ARI knows it.
    pub fn parse(method: &str) -> Option<Method> {
        match method {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// Where a parameter travels (Swagger's `paramType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A `{segment}` of the path.
    Path,
    /// The query string (or a form body, or a top-level key of a JSON body).
    Query,
    /// The JSON body as a whole.
    Body,
}

/// A parameter's default value, typed as the published API types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// A number.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'static str),
}

/// Swagger's `allowableValues`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Anything of the data type.
    Any,
    /// One of a list.
    List(&'static [&'static str]),
    /// A number in a range (either bound may be open).
    Range {
        /// Smallest allowed.
        min: Option<i64>,
        /// Largest allowed.
        max: Option<i64>,
    },
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name as clients send it.
    pub name: &'static str,
    /// Swagger `dataType` (`string`, `int`, `boolean`, `containers`).
    pub data_type: &'static str,
    /// One line of documentation.
    pub description: &'static str,
    /// Where it travels.
    pub kind: ParamKind,
    /// Whether the operation refuses to run without it.
    pub required: bool,
    /// Whether a comma-separated list is accepted.
    pub multiple: bool,
    /// The value used when it is absent.
    pub default: Option<DefaultValue>,
    /// What values are allowed.
    pub allowed: Allowed,
}

impl Param {
    const fn new(
        kind: ParamKind,
        name: &'static str,
        data_type: &'static str,
        description: &'static str,
    ) -> Param {
        Param {
            name,
            data_type,
            description,
            kind,
            required: false,
            multiple: false,
            default: None,
            allowed: Allowed::Any,
        }
    }

    /// A path parameter.
    pub const fn path(name: &'static str, data_type: &'static str, desc: &'static str) -> Param {
        Param::new(ParamKind::Path, name, data_type, desc)
    }

    /// A query parameter.
    pub const fn query(name: &'static str, data_type: &'static str, desc: &'static str) -> Param {
        Param::new(ParamKind::Query, name, data_type, desc)
    }

    /// The JSON body parameter.
    pub const fn body(name: &'static str, data_type: &'static str, desc: &'static str) -> Param {
        Param::new(ParamKind::Body, name, data_type, desc)
    }

    /// Marks it required.
    pub const fn required(mut self) -> Param {
        self.required = true;
        self
    }

    /// Accepts a comma-separated list.
    pub const fn multiple(mut self) -> Param {
        self.multiple = true;
        self
    }

    /// A numeric default.
    pub const fn default_int(mut self, value: i64) -> Param {
        self.default = Some(DefaultValue::Int(value));
        self
    }

    /// A boolean default.
    pub const fn default_bool(mut self, value: bool) -> Param {
        self.default = Some(DefaultValue::Bool(value));
        self
    }

    /// A string default.
    pub const fn default_str(mut self, value: &'static str) -> Param {
        self.default = Some(DefaultValue::Str(value));
        self
    }

    /// Restricts it to a list of values.
    pub const fn values(mut self, values: &'static [&'static str]) -> Param {
        self.allowed = Allowed::List(values);
        self
    }

    /// A lower bound.
    pub const fn min(mut self, min: i64) -> Param {
        self.allowed = match self.allowed {
            Allowed::Range { max, .. } => Allowed::Range {
                min: Some(min),
                max,
            },
            _ => Allowed::Range {
                min: Some(min),
                max: None,
            },
        };
        self
    }

    /// An upper bound.
    pub const fn max(mut self, max: i64) -> Param {
        self.allowed = match self.allowed {
            Allowed::Range { min, .. } => Allowed::Range {
                min,
                max: Some(max),
            },
            _ => Allowed::Range {
                min: None,
                max: Some(max),
            },
        };
        self
    }

    fn to_swagger(self) -> Value {
        let mut p = Map::new();
        p.insert("name".into(), json!(self.name));
        p.insert("description".into(), json!(self.description));
        let kind = match self.kind {
            ParamKind::Path => "path",
            ParamKind::Query => "query",
            ParamKind::Body => "body",
        };
        p.insert("paramType".into(), json!(kind));
        p.insert("required".into(), json!(self.required));
        p.insert("allowMultiple".into(), json!(self.multiple));
        p.insert("dataType".into(), json!(self.data_type));
        if let Some(default) = self.default {
            let value = match default {
                DefaultValue::Int(n) => json!(n),
                DefaultValue::Bool(b) => json!(b),
                DefaultValue::Str(s) => json!(s),
            };
            p.insert("defaultValue".into(), value);
        }
        match self.allowed {
            Allowed::Any => {}
            Allowed::List(values) => {
                p.insert(
                    "allowableValues".into(),
                    json!({"valueType": "LIST", "values": values}),
                );
            }
            Allowed::Range { min, max } => {
                let mut range = Map::new();
                range.insert("valueType".into(), json!("RANGE"));
                if let Some(min) = min {
                    range.insert("min".into(), json!(min));
                }
                if let Some(max) = max {
                    range.insert("max".into(), json!(max));
                }
                p.insert("allowableValues".into(), Value::Object(range));
            }
        }
        Value::Object(p)
    }
}

/// One operation: a method on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The operation's name in client libraries (`originate`).
    pub nickname: &'static str,
    /// One line of documentation.
    pub summary: &'static str,
    /// Longer documentation, where the API has it.
    pub notes: Option<&'static str>,
    /// Swagger `responseClass` (`void` answers 204).
    pub response: &'static str,
    /// The Asterisk versions that introduced it.
    pub since: &'static [&'static str],
    /// Its parameters.
    pub params: &'static [Param],
    /// Its documented error responses.
    pub errors: &'static [(u16, &'static str)],
    /// Whether it is the events WebSocket upgrade.
    pub websocket: bool,
}

impl Operation {
    /// An operation without parameters or errors.
    pub const fn new(
        method: Method,
        nickname: &'static str,
        summary: &'static str,
        response: &'static str,
    ) -> Operation {
        Operation {
            method,
            nickname,
            summary,
            notes: None,
            response,
            since: &[],
            params: &[],
            errors: &[],
            websocket: false,
        }
    }

    /// Sets `since`.
    pub const fn since(mut self, since: &'static [&'static str]) -> Operation {
        self.since = since;
        self
    }

    /// Sets `notes`.
    pub const fn notes(mut self, notes: &'static str) -> Operation {
        self.notes = Some(notes);
        self
    }

    /// Sets the parameters.
    pub const fn params(mut self, params: &'static [Param]) -> Operation {
        self.params = params;
        self
    }

    /// Sets the error responses.
    pub const fn errors(mut self, errors: &'static [(u16, &'static str)]) -> Operation {
        self.errors = errors;
        self
    }

    /// Marks the WebSocket upgrade.
    pub const fn websocket(mut self) -> Operation {
        self.websocket = true;
        self
    }

    fn to_swagger(self) -> Value {
        let mut o = Map::new();
        o.insert("httpMethod".into(), json!(self.method.as_str()));
        o.insert("since".into(), json!(self.since));
        if self.websocket {
            o.insert("upgrade".into(), json!("websocket"));
            o.insert("websocketProtocol".into(), json!("ari"));
        }
        o.insert("summary".into(), json!(self.summary));
        if let Some(notes) = self.notes {
            o.insert("notes".into(), json!(notes));
        }
        o.insert("nickname".into(), json!(self.nickname));
        o.insert("responseClass".into(), json!(self.response));
        let params: Vec<Value> = self.params.iter().map(|p| p.to_swagger()).collect();
        o.insert("parameters".into(), Value::Array(params));
        if !self.errors.is_empty() {
            let errors: Vec<Value> = self
                .errors
                .iter()
                .map(|(code, reason)| json!({"code": code, "reason": reason}))
                .collect();
            o.insert("errorResponses".into(), Value::Array(errors));
        }
        Value::Object(o)
    }
}

/// The operations on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    /// The path under `/ari`, with `{name}` segments.
    pub path: &'static str,
    /// One line of documentation.
    pub description: &'static str,
    /// Its operations.
    pub operations: &'static [Operation],
}

/// One resource: a Swagger document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// `channels`: the document is `/ari/api-docs/channels.json`.
    pub name: &'static str,
    /// Its line in the resource listing.
    pub description: &'static str,
    /// `1.1` (`1.2` for events, as published).
    pub swagger_version: &'static str,
    /// The Asterisk versions that introduced it.
    pub since: &'static [&'static str],
    /// Asterisk modules it needs (documentation only here).
    pub requires_modules: &'static [&'static str],
    /// The data models, as published JSON.
    pub models: &'static str,
    /// Its paths.
    pub apis: &'static [Api],
}

impl Resource {
    /// The resource called `name`.
    pub fn named(name: &str) -> Option<&'static Resource> {
        RESOURCES.iter().find(|r| r.name == name)
    }

    /// The Swagger document of this resource, with `basePath` pointing at
    /// this server (`None`: no Host header, so no `basePath`).
    pub fn swagger(&self, base_path: Option<&str>) -> Value {
        let mut doc = Map::new();
        doc.insert("apiVersion".into(), json!(API_VERSION));
        doc.insert("swaggerVersion".into(), json!(self.swagger_version));
        if let Some(base) = base_path {
            doc.insert("basePath".into(), json!(base));
        }
        doc.insert(
            "resourcePath".into(),
            json!(format!("/api-docs/{}.{{format}}", self.name)),
        );
        doc.insert("since".into(), json!(self.since));
        if !self.requires_modules.is_empty() {
            doc.insert("requiresModules".into(), json!(self.requires_modules));
        }
        let apis: Vec<Value> = self
            .apis
            .iter()
            .map(|api| {
                let operations: Vec<Value> =
                    api.operations.iter().map(|o| o.to_swagger()).collect();
                let mut a = Map::new();
                a.insert("path".into(), json!(api.path));
                if !api.description.is_empty() {
                    a.insert("description".into(), json!(api.description));
                }
                a.insert("operations".into(), Value::Array(operations));
                Value::Object(a)
            })
            .collect();
        doc.insert("apis".into(), Value::Array(apis));
        let models = match serde_json::from_str::<Value>(self.models) {
            Ok(models) => models,
            Err(e) => {
                tracing::error!("ARI models of {} unreadable: {e}", self.name);
                Value::Object(Map::new())
            }
        };
        doc.insert("models".into(), models);
        Value::Object(doc)
    }
}

/// The resource listing (`resources.json`).
pub fn listing(base_path: Option<&str>) -> Value {
    let apis: Vec<Value> = RESOURCES
        .iter()
        .map(|r| {
            json!({
                "path": format!("/api-docs/{}.{{format}}", r.name),
                "description": r.description,
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), json!(LISTING_API_VERSION));
    doc.insert("swaggerVersion".into(), json!("1.1"));
    if let Some(base) = base_path {
        doc.insert("basePath".into(), json!(base));
    }
    doc.insert("apis".into(), Value::Array(apis));
    Value::Object(doc)
}

/// What a request path matched.
#[derive(Debug, Clone)]
pub struct Route {
    /// The resource (`channels`).
    pub resource: &'static Resource,
    /// The path entry.
    pub api: &'static Api,
    /// The `{name}` segments with their (URI-decoded) values.
    pub path_params: Vec<(&'static str, String)>,
}

impl Route {
    /// The operation for `method`, if the path has one.
    pub fn operation(&self, method: Method) -> Option<&'static Operation> {
        self.api.operations.iter().find(|o| o.method == method)
    }

    /// The methods the path allows (for `Allow`).
    pub fn methods(&self) -> Vec<&'static str> {
        self.api
            .operations
            .iter()
            .map(|o| o.method.as_str())
            .collect()
    }
}

/// Finds the path entry for a request path under `/ari` (`/channels/123`).
/// Segments are matched one by one; at each level a literal segment wins
/// over a `{wildcard}`, as Asterisk's path tree does.
pub fn find(path: &str) -> Option<Route> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let mut best: Option<(Vec<bool>, Route)> = None;
    for resource in RESOURCES {
        for api in resource.apis {
            let pattern: Vec<&str> = api.path.trim_start_matches('/').split('/').collect();
            if pattern.len() != segments.len() {
                continue;
            }
            let mut literal = Vec::with_capacity(pattern.len());
            let mut params = Vec::new();
            let matched = pattern.iter().zip(&segments).all(|(p, s)| {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    literal.push(false);
                    params.push((name, s.clone()));
                    !s.is_empty()
                } else {
                    literal.push(true);
                    p == s
                }
            });
            if !matched {
                continue;
            }
            let better = match &best {
                None => true,
                Some((score, _)) => literal > *score,
            };
            if better {
                best = Some((
                    literal,
                    Route {
                        resource,
                        api,
                        path_params: params,
                    },
                ));
            }
        }
    }
    best.map(|(_, route)| route)
}

/// URI-decodes one path segment (`%2F`, `%20`); invalid escapes stay as
/// they are.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = segment.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation with its resource and path, in table order.
    fn operations() -> impl Iterator<Item = (&'static Resource, &'static Api, &'static Operation)> {
        RESOURCES.iter().flat_map(|r| {
            r.apis
                .iter()
                .flat_map(move |a| a.operations.iter().map(move |o| (r, a, o)))
        })
    }

    impl Route {
        fn path_param(&self, name: &str) -> Option<&str> {
            self.path_params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    #[test]
    fn the_table_holds_every_published_operation() {
        assert_eq!(operations().count(), 109);
        assert_eq!(RESOURCES.len(), 11);
    }

    #[test]
    fn literal_segments_win_over_wildcards() {
        let route = find("/channels/create").expect("matches");
        assert_eq!(route.api.path, "/channels/create");
        let route = find("/channels/abc.1").expect("matches");
        assert_eq!(route.api.path, "/channels/{channelId}");
        assert_eq!(route.path_param("channelId"), Some("abc.1"));
        let route = find("/endpoints/PJSIP/101").expect("matches");
        assert_eq!(route.path_param("tech"), Some("PJSIP"));
        assert_eq!(route.path_param("resource"), Some("101"));
        let route = find("/endpoints/sendMessage").expect("matches");
        assert_eq!(route.api.path, "/endpoints/sendMessage");
        assert!(find("/nothing/here").is_none());
        assert!(find("/channels/").is_none());
    }

    #[test]
    fn segments_are_uri_decoded() {
        let route = find("/deviceStates/Stasis%3Adoor").expect("matches");
        assert_eq!(route.path_param("deviceName"), Some("Stasis:door"));
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn models_parse() {
        for resource in RESOURCES {
            let doc = resource.swagger(Some("http://h/ari"));
            assert!(
                doc["models"].as_object().is_some_and(|m| !m.is_empty()),
                "{}",
                resource.name
            );
        }
    }

    #[test]
    fn swagger_shape() {
        let doc = Resource::named("playbacks")
            .expect("known")
            .swagger(Some("http://example:8088/ari"));
        assert_eq!(doc["swaggerVersion"], "1.1");
        assert_eq!(doc["apiVersion"], "2.0.0");
        assert_eq!(doc["basePath"], "http://example:8088/ari");
        assert_eq!(doc["resourcePath"], "/api-docs/playbacks.{format}");
        let op = &doc["apis"][1]["operations"][0];
        assert_eq!(op["nickname"], "control");
        assert_eq!(op["parameters"][1]["allowableValues"]["valueType"], "LIST");
        assert_eq!(op["errorResponses"][0]["code"], 400);
        let events = Resource::named("events").expect("known").swagger(None);
        assert!(events.get("basePath").is_none());
        assert_eq!(events["apis"][0]["operations"][0]["upgrade"], "websocket");
        let listing = listing(Some("http://h/ari"));
        assert_eq!(listing["apis"][2]["path"], "/api-docs/channels.{format}");
    }

    /// Compares the generated documents with the published ones, when the
    /// reference folder is present: every path, method and parameter.
    #[test]
    fn matches_the_reference_listing() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/ari-api-docs");
        let Ok(listing_text) = std::fs::read_to_string(dir.join("resources.json")) else {
            eprintln!("reference ARI documents not found; comparison skipped");
            return;
        };
        let published: Value = serde_json::from_str(&listing_text).expect("listing parses");
        let ours = listing(None);
        assert_eq!(published["apis"], ours["apis"]);
        let mut compared = 0;
        for resource in RESOURCES {
            let text = std::fs::read_to_string(dir.join(format!("{}.json", resource.name)))
                .expect("reference document");
            let published: Value = serde_json::from_str(&text).expect("parses");
            let ours = resource.swagger(None);
            assert_eq!(published["models"], ours["models"], "{}", resource.name);
            let published_apis = published["apis"].as_array().expect("apis");
            let our_apis = ours["apis"].as_array().expect("apis");
            assert_eq!(published_apis.len(), our_apis.len(), "{}", resource.name);
            for (p, o) in published_apis.iter().zip(our_apis) {
                assert_eq!(p["path"], o["path"]);
                let p_ops = p["operations"].as_array().expect("operations");
                let o_ops = o["operations"].as_array().expect("operations");
                assert_eq!(p_ops.len(), o_ops.len(), "{}", p["path"]);
                for (po, oo) in p_ops.iter().zip(o_ops) {
                    compared += 1;
                    for key in ["httpMethod", "nickname", "responseClass", "summary"] {
                        assert_eq!(po[key], oo[key], "{} {key}", p["path"]);
                    }
                    let names = |op: &Value| -> Vec<(Value, Value, bool)> {
                        op["parameters"]
                            .as_array()
                            .map(|ps| {
                                ps.iter()
                                    .map(|p| {
                                        (
                                            p["name"].clone(),
                                            p["paramType"].clone(),
                                            p["required"].as_bool().unwrap_or(false),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    assert_eq!(names(po), names(oo), "{} {}", p["path"], po["httpMethod"]);
                }
            }
        }
        assert_eq!(compared, 109);
    }
}
