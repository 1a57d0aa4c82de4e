//! Apps: the index entry of one `ApplicationDefinition` class registered at a Site.
//!
//! Repetition note: `App` and `AppCreate` list the same fields with the same schema
//! annotations on purpose: one is what the API returns, the other what it accepts.

use crate::limits::{MAX_DATA_BYTES, MAX_TEXT_BYTES};
use crate::validate::{self as v, Cx, ValidationErrors};
use crate::Id;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Upstream column size of `App.name`.
pub const MAX_APP_NAME: usize = 200;
/// Upstream's `MAX_APP_SERIALIZED_SIZE`.
pub const MAX_APP_SERIALIZED_SIZE: usize = 262_144;
/// Upstream column size of transfer paths.
pub const MAX_TRANSFER_PATH: usize = 256;

/// An App as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct App {
    pub id: Id,
    pub site_id: Id,
    /// The Python class name.
    pub name: String,
    /// Opaque base64 (dill) payload.
    pub serialized_class: String,
    pub source_code: String,
    pub description: String,
    #[schema(value_type = std::collections::HashMap<String, AppParameter>)]
    pub parameters: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, TransferSlot>)]
    pub transfers: Map<String, Value>,
}

/// A command-template or function parameter of an App.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppParameter {
    pub required: bool,
    pub default: Option<String>,
    pub help: String,
}

/// Direction of a transfer slot or item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransferDirection {
    In,
    Out,
}

/// A stage-in or stage-out slot of an App.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransferSlot {
    pub required: bool,
    pub direction: TransferDirection,
    /// Relative to the job's workdir.
    pub local_path: String,
    pub description: String,
    pub recursive: bool,
}

/// The body of `POST /apps/`.
#[derive(Debug, Clone, PartialEq, ToSchema)]
pub struct AppCreate {
    pub site_id: Id,
    pub name: String,
    pub serialized_class: String,
    pub source_code: String,
    pub description: String,
    #[schema(value_type = std::collections::HashMap<String, AppParameter>)]
    pub parameters: Map<String, Value>,
    #[schema(value_type = std::collections::HashMap<String, TransferSlot>)]
    pub transfers: Map<String, Value>,
}

/// The body of `PUT /apps/{id}`: only the fields present are written.
#[derive(Debug, Clone, Default, PartialEq, ToSchema)]
pub struct AppUpdate {
    pub site_id: Option<Id>,
    pub name: Option<String>,
    pub serialized_class: Option<String>,
    pub source_code: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<std::collections::HashMap<String, AppParameter>>)]
    pub parameters: Option<Map<String, Value>>,
    #[schema(value_type = Option<std::collections::HashMap<String, TransferSlot>>)]
    pub transfers: Option<Map<String, Value>>,
}

/// Filters of `GET /apps/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppQuery {
    pub site_ids: Vec<Id>,
    pub ids: Vec<Id>,
    pub name: Option<String>,
    /// Substring of the owning Site's path.
    pub site_path: Option<String>,
    pub site_name: Option<String>,
}

impl AppCreate {
    /// Validates a `POST /apps/` body.
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let app = v::object(&mut cx, body).and_then(|obj| {
            let site_id = cx.required(obj, "site_id", v::integer);
            let name = cx.required(obj, "name", class_name);
            let serialized_class = cx.required(obj, "serialized_class", serialized_class);
            let source_code = cx.required(obj, "source_code", v::string);
            let description = cx.optional(obj, "description", String::new(), text);
            let parameters = cx.optional(
                obj,
                "parameters",
                Map::new(),
                v::sized(MAX_DATA_BYTES, parameters),
            );
            let transfers = cx.optional(
                obj,
                "transfers",
                Map::new(),
                v::sized(MAX_DATA_BYTES, transfers),
            );
            Some(AppCreate {
                site_id: site_id?,
                name: name?,
                serialized_class: serialized_class?,
                source_code: source_code?,
                description: description?,
                parameters: parameters?,
                transfers: transfers?,
            })
        });
        cx.finish(app)
    }
}

impl AppUpdate {
    /// Validates a `PUT /apps/{id}` body; unknown keys are ignored.
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let mut cx = Cx::new("body");
        let update = v::object(&mut cx, body).map(|obj| AppUpdate {
            site_id: cx.patch(obj, "site_id", v::integer),
            name: cx.patch(obj, "name", class_name),
            serialized_class: cx.patch(obj, "serialized_class", serialized_class),
            source_code: cx.patch(obj, "source_code", v::string),
            description: cx.patch(obj, "description", text),
            parameters: cx.patch(obj, "parameters", v::sized(MAX_DATA_BYTES, parameters)),
            transfers: cx.patch(obj, "transfers", v::sized(MAX_DATA_BYTES, transfers)),
        });
        cx.finish(update)
    }
}

/// Python's `str.isidentifier()`, close enough: a letter or `_`, then letters, digits, `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn class_name(cx: &mut Cx, x: &Value) -> Option<String> {
    let name = v::string(cx, x)?;
    if !is_identifier(&name) {
        cx.error(format!("{name} is not a valid class name"), "value_error");
        return None;
    }
    v::string_max(cx, &Value::String(name), MAX_APP_NAME)
}

fn text(cx: &mut Cx, x: &Value) -> Option<String> {
    v::sized(MAX_TEXT_BYTES, v::string)(cx, x)
}

fn serialized_class(cx: &mut Cx, x: &Value) -> Option<String> {
    let s = v::string(cx, x)?;
    if s.chars().count() > MAX_APP_SERIALIZED_SIZE {
        cx.error(
            format!("Serialized App cannot be larger than {MAX_APP_SERIALIZED_SIZE}"),
            "assertion_error",
        );
        return None;
    }
    Some(s)
}

fn parameters(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::map_of(cx, x, |cx, p| {
        let obj = v::object(cx, p)?;
        let required = cx.required(obj, "required", v::boolean);
        let default = cx.nullable(obj, "default", v::string);
        let help = cx.optional(obj, "help", String::new(), v::string);
        let (required, default) = (required?, default?);
        let has_default = default.as_deref().is_some_and(|d| !d.is_empty());
        // Upstream lets `{"required": false}` without a default through and then fails with
        // a 500 while building the response; we answer 422 at the same location instead.
        if required && has_default {
            cx.at("default", |cx| {
                cx.error("cannot be required and have default", "value_error")
            });
            return None;
        }
        if !required && !has_default {
            cx.at("default", |cx| {
                cx.error("optional param needs a default", "value_error")
            });
            return None;
        }
        Some(serde_json::json!({"required": required, "default": default, "help": help?}))
    })
}

fn transfers(cx: &mut Cx, x: &Value) -> Option<Map<String, Value>> {
    v::map_of(cx, x, |cx, slot| {
        let obj = v::object(cx, slot)?;
        let required = cx.required(obj, "required", v::boolean);
        let direction = cx.required(obj, "direction", |cx, x| v::enum_str(cx, x, &["in", "out"]));
        let local_path = cx.required(obj, "local_path", |cx, x| {
            v::relative_path(cx, x, MAX_TRANSFER_PATH)
        });
        let description = cx.optional(obj, "description", String::new(), v::string);
        let recursive = cx.optional(obj, "recursive", false, v::boolean);
        Some(serde_json::json!({
            "required": required?,
            "direction": direction?,
            "local_path": local_path?,
            "description": description?,
            "recursive": recursive?,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"site_id": 1, "name": "Hello", "serialized_class": "txt", "source_code": "src"})
    }

    #[test]
    fn defaults_are_filled_in_like_upstream() {
        let mut body = base();
        body["parameters"] =
            json!({"name": {"required": true}, "N": {"required": false, "default": 1}});
        body["transfers"] =
            json!({"inp": {"required": false, "direction": "in", "local_path": "./hello.yml"}});
        let app = AppCreate::from_json(&body).unwrap();
        assert_eq!(
            Value::Object(app.parameters),
            json!({"name": {"required": true, "default": null, "help": ""},
                   "N": {"required": false, "default": "1", "help": ""}})
        );
        assert_eq!(
            Value::Object(app.transfers),
            json!({"inp": {"required": false, "direction": "in", "local_path": "hello.yml",
                   "description": "", "recursive": false}})
        );
    }

    #[test]
    fn class_names_must_be_identifiers() {
        let mut body = base();
        body["name"] = json!("not-a-class");
        let err = AppCreate::from_json(&body).unwrap_err();
        assert_eq!(err.0[0].msg, "not-a-class is not a valid class name");
        assert!(is_identifier("_Ok9"));
        assert!(!is_identifier("9no"));
    }

    #[test]
    fn optional_parameters_need_a_default_and_required_ones_must_not_have_one() {
        let mut body = base();
        body["parameters"] =
            json!({"a": {"required": false}, "b": {"required": true, "default": "x"}});
        let err = AppCreate::from_json(&body).unwrap_err();
        let locs: Vec<Value> = err
            .0
            .iter()
            .map(|e| serde_json::to_value(&e.loc).unwrap())
            .collect();
        assert_eq!(
            locs,
            vec![
                json!(["body", "parameters", "a", "default"]),
                json!(["body", "parameters", "b", "default"])
            ]
        );
    }

    #[test]
    fn oversized_serialized_class_is_an_assertion_error() {
        let mut body = base();
        body["serialized_class"] = json!("x".repeat(MAX_APP_SERIALIZED_SIZE + 1));
        let err = AppCreate::from_json(&body).unwrap_err();
        assert_eq!(err.0[0].kind, "assertion_error");
        assert_eq!(err.0[0].msg, "Serialized App cannot be larger than 262144");
    }

    #[test]
    fn absolute_slot_paths_are_rejected() {
        let mut body = base();
        body["transfers"] =
            json!({"x": {"required": true, "direction": "out", "local_path": "/abs"}});
        let err = AppCreate::from_json(&body).unwrap_err();
        assert_eq!(err.0[0].msg, "Cannot use absolute path");
    }
}
