//! Decoding of the Kubernetes protobuf wire format for the few types whose
//! bodies kubectl's imperative generators send as protobuf (`kubectl create
//! namespace|configmap|secret|serviceaccount`). Other types get 415: their
//! schemas (PodSpec...) are too large to mirror by hand.

use base64::Engine;
use serde_json::{json, Map, Value};

/// Every Kubernetes protobuf body starts with these four bytes.
const MAGIC: &[u8] = b"k8s\0";

pub fn is_protobuf(content_type: &str) -> bool {
    content_type.contains("application/vnd.kubernetes.protobuf")
}

/// Decodes an envelope into the JSON object it carries.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("protobuf body without the k8s envelope")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for field in Fields::new(envelope) {
        match field? {
            (1, Wire::Bytes(type_meta)) => {
                for f in Fields::new(type_meta) {
                    match f? {
                        (1, Wire::Bytes(v)) => api_version = text(v)?,
                        (2, Wire::Bytes(v)) => kind = text(v)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(api_version));
    object.insert("kind".into(), json!(kind.clone()));
    let maps_of_bytes: &[(u64, &str)] = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => &[],
        ("v1", "ConfigMap") => &[(2, "data"), (3, "binaryData")],
        ("v1", "Secret") => &[(2, "data"), (4, "stringData")],
        ("v1", "ServiceAccount") => &[],
        _ => {
            return Err(format!(
                "protobuf bodies for {api_version} {kind} are not supported; send JSON"
            ))
        }
    };
    for field in Fields::new(raw) {
        match field? {
            (1, Wire::Bytes(meta)) => {
                object.insert("metadata".into(), object_meta(meta)?);
            }
            (2, Wire::Bytes(spec)) if kind == "Namespace" => {
                let finalizers = Fields::new(spec)
                    .filter_map(|f| match f {
                        Ok((1, Wire::Bytes(v))) => Some(text(v).map(Value::String)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                object.insert("spec".into(), json!({"finalizers": finalizers}));
            }
            (3, Wire::Bytes(v)) if kind == "Secret" => {
                object.insert("type".into(), json!(text(v)?));
            }
            (number, Wire::Bytes(entry)) => {
                if let Some((_, name)) = maps_of_bytes.iter().find(|(n, _)| *n == number) {
                    let (key, value) = map_entry(entry)?;
                    // Secret data and ConfigMap binaryData are bytes: JSON carries them as base64.
                    let value =
                        if matches!(*name, "data" if kind == "Secret") || *name == "binaryData" {
                            base64::engine::general_purpose::STANDARD.encode(value)
                        } else {
                            text(value)?
                        };
                    let map = object.entry(*name).or_insert_with(|| json!({}));
                    map[key] = json!(value);
                }
            }
            (number, Wire::Varint(v))
                if (kind == "ConfigMap" && number == 4) || (kind == "Secret" && number == 5) =>
            {
                object.insert("immutable".into(), json!(v != 0));
            }
            (4, Wire::Varint(v)) if kind == "ServiceAccount" => {
                object.insert("automountServiceAccountToken".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    Ok(Value::Object(object))
}

fn object_meta(bytes: &[u8]) -> Result<Value, String> {
    let mut meta = Map::new();
    for field in Fields::new(bytes) {
        match field? {
            (1, Wire::Bytes(v)) => _ = meta.insert("name".into(), json!(text(v)?)),
            (2, Wire::Bytes(v)) => _ = meta.insert("generateName".into(), json!(text(v)?)),
            (3, Wire::Bytes(v)) => _ = meta.insert("namespace".into(), json!(text(v)?)),
            (6, Wire::Bytes(v)) => _ = meta.insert("resourceVersion".into(), json!(text(v)?)),
            (14, Wire::Bytes(v)) => {
                let list = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(items) = list.as_array_mut() {
                    items.push(json!(text(v)?));
                }
            }
            _ => {}
        }
    }
    for field in Fields::new(bytes) {
        if let (number @ (11 | 12), Wire::Bytes(entry)) = field? {
            let (key, value) = map_entry(entry)?;
            let target = if number == 11 {
                "labels"
            } else {
                "annotations"
            };
            let map = meta.entry(target).or_insert_with(|| json!({}));
            map[key] = json!(text(value)?);
        }
    }
    Ok(Value::Object(meta))
}

/// A protobuf map entry: field 1 key (string), field 2 value (string or bytes).
fn map_entry(bytes: &[u8]) -> Result<(String, &[u8]), String> {
    let (mut key, mut value) = (String::new(), &[][..]);
    for field in Fields::new(bytes) {
        match field? {
            (1, Wire::Bytes(k)) => key = text(k)?,
            (2, Wire::Bytes(v)) => value = v,
            _ => {}
        }
    }
    Ok((key, value))
}

fn text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "protobuf string field is not UTF-8".to_string())
}

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Iterates `(field number, value)` over one protobuf message.
struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields {
            rest: bytes,
            failed: false,
        }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.rest.split_first().ok_or("truncated protobuf varint")?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("protobuf varint too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err("truncated protobuf field".into());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u64, Wire<'a>), String> {
        let tag = self.varint()?;
        let wire = match tag & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let len =
                    usize::try_from(self.varint()?).map_err(|_| "protobuf length overflow")?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            other => return Err(format!("unsupported protobuf wire type {other}")),
        };
        Ok((tag >> 3, wire))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Wire<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let field = self.field();
        self.failed = field.is_err();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3 | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    fn entry(key: &str, value: &[u8]) -> Vec<u8> {
        [field(1, key.as_bytes()), field(2, value)].concat()
    }

    #[test]
    fn decodes_a_secret_like_kubectl_sends_it() {
        let meta = [
            field(1, b"s"),
            field(3, b"app"),
            field(11, &entry("team", b"dr")),
        ]
        .concat();
        let secret = [
            field(1, &meta),
            field(2, &entry("password", b"hunter2")),
            field(3, b"Opaque"),
        ]
        .concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &secret)].concat();
        let decoded = decode(&body).expect("decodes");
        assert_eq!(
            decoded,
            json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "s", "namespace": "app", "labels": {"team": "dr"}},
                "data": {"password": "aHVudGVyMg=="},
            })
        );
        let deployment = [
            MAGIC.to_vec(),
            field(1, &[field(1, b"apps/v1"), field(2, b"Deployment")].concat()),
        ]
        .concat();
        assert!(decode(&deployment)
            .expect_err("unsupported")
            .contains("apps/v1 Deployment"));
        assert!(decode(b"{}").is_err());
    }
}
