//! `variable` blocks: declared type, default, and the value the environment gives.

use crate::spec::body::{type_name, BlockBody, Schema};
use crate::spec::diagnostic::{Diagnostics, SpecDiagnostic};
use hcl::Value;

pub const SCHEMA: Schema = Schema::new(
    &["type", "default", "description", "sensitive", "promote"],
    &["validation"],
)
.with_repeatable(&["validation"])
.with_raw(&["type"]);
pub const VALIDATION: Schema = Schema::new(&["condition", "error_message"], &[]);

/// A declared variable type (`string`, `list(number)`, `map(any)` ...).
#[derive(Clone, Debug, PartialEq)]
pub enum VarType {
    Any,
    String,
    Number,
    Bool,
    List(Box<VarType>),
    Map(Box<VarType>),
    Object,
}

impl VarType {
    pub fn parse(s: &str) -> Option<VarType> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let inner = |prefix: &str| s.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
        Some(match s.as_str() {
            "any" => VarType::Any,
            "string" => VarType::String,
            "number" => VarType::Number,
            "bool" => VarType::Bool,
            "list" | "set" | "tuple" => VarType::List(Box::new(VarType::Any)),
            "map" => VarType::Map(Box::new(VarType::Any)),
            _ if s.starts_with("object(") => VarType::Object,
            _ if s.starts_with("tuple(") => VarType::List(Box::new(VarType::Any)),
            _ => {
                if let Some(t) = inner("list(").or_else(|| inner("set(")) {
                    VarType::List(Box::new(VarType::parse(t)?))
                } else if let Some(t) = inner("map(") {
                    VarType::Map(Box::new(VarType::parse(t)?))
                } else {
                    return None;
                }
            }
        })
    }

    /// Converts `v` to this type the way Terraform does for primitives (numbers and
    /// bools become strings, numeric strings become numbers), or says why it cannot.
    pub fn convert(&self, v: &Value) -> Result<Value, String> {
        let fail = |want: &str| Err(format!("expected {want}, got {}", type_name(v)));
        match (self, v) {
            (VarType::Any, _) => Ok(v.clone()),
            (VarType::String, Value::String(_)) => Ok(v.clone()),
            (VarType::String, Value::Number(n)) => Ok(Value::from(n.to_string())),
            (VarType::String, Value::Bool(b)) => Ok(Value::from(b.to_string())),
            (VarType::String, _) => fail("a string"),
            (VarType::Number, Value::Number(_)) => Ok(v.clone()),
            (VarType::Number, Value::String(s)) => match s.parse::<i64>() {
                Ok(i) => Ok(Value::from(i)),
                Err(_) => fail("a number"),
            },
            (VarType::Number, _) => fail("a number"),
            (VarType::Bool, Value::Bool(_)) => Ok(v.clone()),
            (VarType::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (VarType::Bool, _) => fail("a bool"),
            (VarType::List(t), Value::Array(items)) => items
                .iter()
                .map(|i| t.convert(i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            (VarType::List(_), _) => fail("a list"),
            (VarType::Map(t), Value::Object(o)) => o
                .iter()
                .map(|(k, i)| t.convert(i).map(|c| (k.clone(), c)))
                .collect::<Result<hcl::Map<_, _>, _>>()
                .map(Value::Object),
            (VarType::Map(_), _) => fail("a map"),
            (VarType::Object, Value::Object(_)) => Ok(v.clone()),
            (VarType::Object, _) => fail("an object"),
        }
    }
}

pub fn declared_type(b: &BlockBody, diags: &mut Diagnostics) -> VarType {
    match b.raw.get("type") {
        None => VarType::Any,
        Some((text, span)) => VarType::parse(text).unwrap_or_else(|| {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::invalid_value",
                    format!("`{text}` is not a variable type"),
                )
                .at(b.file, span.clone(), "unknown type")
                .help("use string, number, bool, list(T), map(T) or any"),
            );
            VarType::Any
        }),
    }
}

pub fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
