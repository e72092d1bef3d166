//! GetConfig, GetConfigJSON, ListCategories: configuration files of the
//! configuration directory, read with the same parser the daemon uses.

use super::Req;
use crate::session::Outbound;

fn load(req: &Req) -> Result<obelus_conf::Config, Outbound> {
    let name = req.msg.value("Filename").trim();
    if name.is_empty() {
        return Err(req.error("Filename not specified"));
    }
    // Only files of the configuration directory: no paths, no escapes.
    if name.contains('/') || name.contains("..") {
        return Err(req.error("Config file not found"));
    }
    let settings = &req.ami.core.settings;
    settings.load_conf(name).map_err(|e| {
        if e.is_not_found() {
            req.error("Config file not found")
        } else {
            req.error("Config file has invalid format")
        }
    })
}

/// `Action: GetConfig`: `Category-NNNNNN` and `Line-NNNNNN-NNNNNN: key=value`.
pub async fn get_config(req: Req) -> Outbound {
    let config = match load(&req) {
        Ok(config) => config,
        Err(e) => return e,
    };
    let only = req.msg.get("Category").filter(|c| !c.is_empty());
    let mut response = req.success();
    let mut n = 0;
    for category in config.categories() {
        if only.is_some_and(|c| !c.eq_ignore_ascii_case(&category.name)) {
            continue;
        }
        response = response.header(&format!("Category-{n:06}"), &category.name);
        for (i, var) in category.variables().iter().enumerate() {
            response = response.header(
                &format!("Line-{n:06}-{i:06}"),
                &format!("{}={}", var.name, var.value),
            );
        }
        n += 1;
    }
    if n == 0 && only.is_some() {
        return req.error("No categories found");
    }
    Outbound::Text(response.finish())
}

/// `Action: GetConfigJSON`: `JSON: {"category": {"key": "value"}}`.
pub async fn get_config_json(req: Req) -> Outbound {
    let config = match load(&req) {
        Ok(config) => config,
        Err(e) => return e,
    };
    let mut root = serde_json::Map::new();
    for category in config.categories() {
        let mut object = serde_json::Map::new();
        for var in category.variables() {
            object.insert(
                var.name.clone(),
                serde_json::Value::String(var.value.clone()),
            );
        }
        root.insert(category.name.clone(), serde_json::Value::Object(object));
    }
    Outbound::Text(
        req.success()
            .header("JSON", &serde_json::Value::Object(root).to_string())
            .finish(),
    )
}

/// `Action: ListCategories`.
pub async fn list_categories(req: Req) -> Outbound {
    let config = match load(&req) {
        Ok(config) => config,
        Err(e) => return e,
    };
    let mut response = req.success();
    let mut n = 0;
    for category in config.categories() {
        response = response.header(&format!("Category-{n:06}"), &category.name);
        n += 1;
    }
    if n == 0 {
        return req.error("Error: no categories found");
    }
    Outbound::Text(response.finish())
}

/// Asterisk's UpdateConfig error messages.
const UNKNOWN_ACTION: &str = "Unknown action name";
const UNKNOWN_CATEGORY: &str = "Given category does not exist";
const UNSPECIFIED_CATEGORY: &str = "Category not specified";
const UNSPECIFIED_ARGUMENT: &str = "Problem with category, value, or line (if required)";

fn file_name<'a>(req: &Req, key: &str, value: &'a str) -> Result<&'a str, Outbound> {
    let name = value.trim();
    if name.is_empty() || name.contains('/') || name.contains("..") {
        return Err(req.error(&format!(
            "{key} is not a file of the configuration directory"
        )));
    }
    Ok(name)
}

/// Applies one `Action-NNNNNN` edit.
fn edit(doc: &mut obelus_conf::Document, req: &Req, n: &str, action: &str) -> Result<(), String> {
    let get = |key: &str| req.msg.get(&format!("{key}-{n}")).map(str::trim);
    let category = get("Cat")
        .filter(|c| !c.is_empty())
        .ok_or(UNSPECIFIED_CATEGORY)?;
    let var = get("Var").unwrap_or("");
    let value = get("Value").unwrap_or("");
    let need_var = || {
        if var.is_empty() {
            Err(UNSPECIFIED_ARGUMENT.to_owned())
        } else {
            Ok(())
        }
    };
    let map = |e: obelus_conf::DocumentError| match e {
        obelus_conf::DocumentError::CategoryNotFound(_) => UNKNOWN_CATEGORY.to_owned(),
        other => other.to_string(),
    };
    match action.to_ascii_lowercase().as_str() {
        "newcat" => doc
            .new_category(category, &[])
            .map_err(|e| format!("Create category did not complete successfully: {e}")),
        "renamecat" => {
            if value.is_empty() {
                return Err(UNSPECIFIED_ARGUMENT.to_owned());
            }
            doc.rename_category(category, value)
                .map(|_| ())
                .map_err(map)
        }
        "delcat" => doc.delete_category(category).map_err(map),
        "update" => {
            need_var()?;
            if let Some(matching) = get("Match").filter(|m| !m.is_empty()) {
                let removed = doc
                    .delete_variable(category, var, Some(matching))
                    .map_err(map)?;
                if removed == 0 {
                    return Err("Update did not complete successfully".into());
                }
                doc.append_variable(category, var, value).map_err(map)
            } else {
                doc.set_variable(category, var, value).map_err(map)
            }
        }
        "delete" => {
            need_var()?;
            let matching = get("Match").filter(|m| !m.is_empty());
            match doc.delete_variable(category, var, matching).map_err(map)? {
                0 => Err("Delete did not complete successfully".into()),
                _ => Ok(()),
            }
        }
        "append" => {
            need_var()?;
            doc.append_variable(category, var, value).map_err(map)
        }
        "emptycat" | "insert" => Err(format!(
            "{action} is not supported yet; use Delete and Append"
        )),
        _ => Err(UNKNOWN_ACTION.to_owned()),
    }
}

/// `Action: UpdateConfig`: edits keep every comment and the order of the
/// rest of the file; the result is written whole (temporary file, rename).
pub async fn update_config(req: Req) -> Outbound {
    let (src, dst) = match (
        file_name(&req, "SrcFilename", req.msg.value("SrcFilename")),
        file_name(&req, "DstFilename", req.msg.value("DstFilename")),
    ) {
        (Ok(s), Ok(d)) => (s.to_owned(), d.to_owned()),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let etc = req.ami.core.settings.dirs.etc.clone();
    let Ok(text) = std::fs::read_to_string(etc.join(&src)) else {
        return req.error("Config file not found");
    };
    let Ok(mut doc) = obelus_conf::Document::parse(&src, &text) else {
        return req.error("Config file has invalid format");
    };
    for i in 0..100_000 {
        let n = format!("{i:06}");
        let Some(action) = req.msg.get(&format!("Action-{n}")).map(str::trim) else {
            break;
        };
        if let Err(why) = edit(&mut doc, &req, &n, action) {
            return req.error(&why);
        }
    }
    let tmp = etc.join(format!(".{dst}.obelus-tmp"));
    if let Err(e) =
        std::fs::write(&tmp, doc.to_string()).and_then(|()| std::fs::rename(&tmp, etc.join(&dst)))
    {
        let _ = std::fs::remove_file(&tmp);
        return req.error(&format!("Save of config failed for file {dst}: {e}"));
    }
    if let Some(reload) = req
        .msg
        .get("Reload")
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let core = std::sync::Arc::clone(&req.ami.core);
        let truthy = obelus_core::settings::parse_bool(reload);
        match truthy {
            Some(false) => {}
            Some(true) => {
                core.modules.reload_all(&core).await;
            }
            None => {
                core.modules.reload(&core, reload).await;
            }
        }
    }
    Outbound::Text(req.success().finish())
}
