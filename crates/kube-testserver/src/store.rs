//! The in-memory object store: JSON objects keyed by type, namespace and name,
//! plus the cluster-wide resourceVersion counter.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Value};
use tokio::sync::watch;

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

/// How many past events a watch can resume from; older resourceVersions get
/// 410 Gone, as after an etcd compaction.
const EVENT_HISTORY: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub revision: u64,
    pub kind: EventType,
    pub key: ObjectKey,
    pub object: Value,
}

#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    /// Last resourceVersion handed out; every write takes the next one, across
    /// all types, as etcd's revision does.
    revision: u64,
    uids: u64,
    events: VecDeque<Event>,
    /// Wakes open watches after each event.
    changed: watch::Sender<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            objects: BTreeMap::new(),
            revision: 0,
            uids: 0,
            events: VecDeque::new(),
            changed: watch::channel(0).0,
        }
    }
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

    /// Stores an object whose resourceVersion is already the current revision.
    pub fn put(&mut self, key: ObjectKey, object: Value) {
        let kind = if self.objects.contains_key(&key) {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.objects.insert(key.clone(), object.clone());
        self.record(kind, key, object);
    }

    /// Removes an object; the deletion takes a new revision, which the returned
    /// (last) state carries, as on a real server.
    pub fn delete(&mut self, key: &ObjectKey) -> Option<Value> {
        let mut object = self.objects.remove(key)?;
        let revision = self.next_revision();
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), json!(revision.to_string()));
        }
        self.record(EventType::Deleted, key.clone(), object.clone());
        Some(object)
    }

    /// Removes every namespaced object in `namespace`, as the namespace
    /// controller eventually does after a namespace is deleted.
    pub fn delete_namespace_contents(&mut self, namespace: &str) {
        let keys: Vec<ObjectKey> = self
            .objects
            .keys()
            .filter(|k| k.namespace == namespace)
            .cloned()
            .collect();
        for key in keys {
            self.delete(&key);
        }
    }

    fn record(&mut self, kind: EventType, key: ObjectKey, object: Value) {
        if self.events.len() == EVENT_HISTORY {
            self.events.pop_front();
        }
        self.events.push_back(Event {
            revision: self.revision,
            kind,
            key,
            object,
        });
        self.changed.send_replace(self.revision);
    }

    /// Events after `revision`, or None when history no longer reaches back
    /// that far.
    pub fn events_after(&self, revision: u64) -> Option<Vec<Event>> {
        let oldest = self
            .events
            .front()
            .map(|e| e.revision)
            .unwrap_or(self.revision + 1);
        if revision + 1 < oldest && revision < self.revision {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|e| e.revision > revision)
                .cloned()
                .collect(),
        )
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
