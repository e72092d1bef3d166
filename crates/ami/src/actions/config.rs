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
    obelus_conf::load(
        &settings.dirs.etc,
        name,
        &obelus_conf::LoadOptions::default(),
    )
    .map_err(|e| {
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
