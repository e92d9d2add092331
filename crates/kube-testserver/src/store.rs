//! The in-memory object store: JSON objects keyed by type, namespace and name,
//! plus the cluster-wide resourceVersion counter.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::ResourceType;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: String,
    pub plural: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(ty: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            group: ty.group.clone(),
            plural: ty.plural.clone(),
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    /// Last resourceVersion handed out; every write takes the next one, across
    /// all types, as etcd's revision does.
    revision: u64,
    uids: u64,
}

impl Store {
    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of one type, in one namespace or (None) in all, ordered by
    /// namespace then name as a real server lists them.
    pub fn list(&self, ty: &ResourceType, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|(k, _)| k.group == ty.group && k.plural == ty.plural)
            .filter(|(k, _)| namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v)
            .collect()
    }

    pub fn all(&self) -> impl Iterator<Item = (&ObjectKey, &Value)> {
        self.objects.iter()
    }

    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.objects.contains_key(key)
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// A fresh, UUID-shaped uid; unique within this server.
    pub fn next_uid(&mut self, salt: u64) -> String {
        self.uids += 1;
        let n = self.uids;
        let mixed = (n ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (mixed >> 32) as u32,
            (mixed >> 16) as u16,
            (mixed & 0xfff) as u16,
            (salt & 0xfff) as u16,
            n
        )
    }

    pub fn put(&mut self, key: ObjectKey, object: Value) {
        self.objects.insert(key, object);
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        self.objects.remove(key)
    }

    /// Removes every namespaced object in `namespace`, as the namespace
    /// controller eventually does after a namespace is deleted.
    pub fn remove_namespace_contents(&mut self, namespace: &str) {
        self.objects.retain(|k, _| k.namespace != namespace);
    }
}
