//! `lifecycle { ignore_changes = [...] }`: attributes another controller owns (a node
//! group's desired size under the cluster autoscaler, a Deployment's replicas under an
//! HPA) are never a difference, and apply does not take them back.
//!
//! For an object that exists, each ignored path of the desired attributes:
//! - of an AWS object takes the live value, so an apply of the object's other changes
//!   writes back what is there;
//! - of a Kubernetes manifest is left out, on both sides: server-side apply then leaves
//!   the field to the manager that owns it instead of taking it over.
//!
//! A create uses the spec's value: it is the starting point the controller scales from.

use crate::resource::{AttrMap, Kind, Resource};
use serde_json::{Map, Value};

/// (live, desired) attributes of `resource` against `live`, with its ignored paths
/// handled as above; the inputs themselves (shared, not copied) when it ignores nothing.
pub fn adjust(resource: &Resource, live: &AttrMap) -> (AttrMap, AttrMap) {
    let mut live = live.clone();
    let mut desired = resource.attrs.clone();
    for path in &resource.ignore_changes {
        let keys: Vec<&str> = path.split('.').collect();
        if resource.kind == Kind::K8sObject {
            remove(&mut live, &keys);
            remove(&mut desired, &keys);
        } else if let Some(value) = get(&live, &keys).cloned() {
            set(&mut desired, &keys, value);
        }
    }
    (live, desired)
}

fn get<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let v = map.get(*first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        get(v.as_object()?, rest)
    }
}

fn set(map: &mut Map<String, Value>, keys: &[&str], value: Value) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert((*first).to_string(), value);
    } else if let Some(inner) = map.get_mut(*first).and_then(Value::as_object_mut) {
        set(inner, rest, value);
    }
}

fn remove(map: &mut Map<String, Value>, keys: &[&str]) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.remove(*first);
    } else if let Some(inner) = map.get_mut(*first).and_then(Value::as_object_mut) {
        remove(inner, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use serde_json::json;

    fn resource(kind: Kind, attrs: Value, ignore: &[&str]) -> Resource {
        Resource {
            address: Address::new("x.y"),
            kind,
            site: None,
            region: None,
            attrs: attrs.as_object().cloned().unwrap_or_default().into(),
            sensitive: vec![],
            depends_on: vec![],
            protect: false,
            source: None,
            ignore_changes: ignore.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn an_aws_attribute_takes_the_live_value_and_a_manifest_field_is_left_out() {
        let ng = resource(
            Kind::NodeGroup,
            json!({"desired_size": 2, "max_size": 6}),
            &["desired_size"],
        );
        let live = json!({"desired_size": 5, "max_size": 4});
        let (l, d) = adjust(&ng, &live.as_object().cloned().expect("map").into());
        assert_eq!(
            Value::Object(d.into()),
            json!({"desired_size": 5, "max_size": 6})
        );
        assert_eq!(Value::Object(l.into()), live);

        let deploy = resource(
            Kind::K8sObject,
            json!({"manifest": {"spec": {"replicas": 2, "template": {}}}}),
            &["manifest.spec.replicas"],
        );
        let live = json!({"manifest": {"spec": {"replicas": 7, "template": {}}}});
        let (l, d) = adjust(&deploy, &live.as_object().cloned().expect("map").into());
        assert_eq!(
            Value::Object(d.into()),
            json!({"manifest": {"spec": {"template": {}}}})
        );
        assert_eq!(
            Value::Object(l.into()),
            json!({"manifest": {"spec": {"template": {}}}})
        );
    }
}
