//! The resource types the server knows. Storage is generic, so a type is only
//! names and scope: adding one (see `Options::extra_resources`) needs no code.

/// One servable resource type, e.g. `apps/v1 deployments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name used in URLs (`deployments`).
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Discovery categories; `all` makes `kubectl get all` include the type.
    pub categories: Vec<String>,
}

impl ResourceType {
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceType {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            singular: kind.to_ascii_lowercase(),
            kind: kind.to_string(),
            namespaced,
            short_names: Vec::new(),
            categories: Vec::new(),
        }
    }

    pub fn with_short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|n| n.to_string()).collect();
        self
    }

    pub fn in_category_all(mut self) -> Self {
        self.categories = vec!["all".to_string()];
        self
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Deployments and statefulsets expose `/scale` (autoscaling/v1 Scale).
    pub fn has_scale(&self) -> bool {
        self.group == "apps"
            && matches!(
                self.plural.as_str(),
                "deployments" | "statefulsets" | "replicasets"
            )
    }

    /// Whether objects carry `metadata.generation`: workloads, ingresses, pods and
    /// custom resources do; other core and RBAC types do not on a real server.
    pub fn tracks_generation(&self) -> bool {
        match self.group.as_str() {
            "" => self.plural == "pods",
            "rbac.authorization.k8s.io" => false,
            _ => true,
        }
    }

    /// Namespaces are the only type whose deletion cascades and whose objects are
    /// needed before any namespaced object can exist.
    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.plural == "namespaces"
    }
}

/// The verbs every type serves.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub fn builtin_types() -> Vec<ResourceType> {
    let t = ResourceType::new;
    vec![
        t("", "v1", "Namespace", "namespaces", false).with_short_names(&["ns"]),
        t("", "v1", "ConfigMap", "configmaps", true).with_short_names(&["cm"]),
        t("", "v1", "Secret", "secrets", true),
        t("", "v1", "Service", "services", true)
            .with_short_names(&["svc"])
            .in_category_all(),
        t("", "v1", "ServiceAccount", "serviceaccounts", true).with_short_names(&["sa"]),
        t(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        )
        .with_short_names(&["pvc"]),
        t("", "v1", "Pod", "pods", true)
            .with_short_names(&["po"])
            .in_category_all(),
        t("", "v1", "Node", "nodes", false).with_short_names(&["no"]),
        t("apps", "v1", "Deployment", "deployments", true)
            .with_short_names(&["deploy"])
            .in_category_all(),
        t("apps", "v1", "StatefulSet", "statefulsets", true)
            .with_short_names(&["sts"])
            .in_category_all(),
        t("apps", "v1", "DaemonSet", "daemonsets", true)
            .with_short_names(&["ds"])
            .in_category_all(),
        t("batch", "v1", "Job", "jobs", true).in_category_all(),
        t("batch", "v1", "CronJob", "cronjobs", true)
            .with_short_names(&["cj"])
            .in_category_all(),
        t("networking.k8s.io", "v1", "Ingress", "ingresses", true).with_short_names(&["ing"]),
        t("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
    ]
}

/// The set of types one server instance serves, in discovery order.
#[derive(Debug, Clone)]
pub struct Catalog {
    types: Vec<ResourceType>,
}

impl Catalog {
    pub fn new(extra: Vec<ResourceType>) -> Self {
        let mut types = builtin_types();
        for ty in extra {
            types.retain(|t| {
                !(t.group == ty.group && t.version == ty.version && t.plural == ty.plural)
            });
            types.push(ty);
        }
        Catalog { types }
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    pub fn namespace_type(&self) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.is_namespace())
    }

    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types
            .iter()
            .filter(move |t| t.group == group && t.version == version)
    }

    /// Non-core groups with their versions, first-seen order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types.iter().filter(|t| !t.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => {
                    versions.push(t.version.clone())
                }
                Some(_) => {}
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        groups
    }

    pub fn core_versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for t in self.types.iter().filter(|t| t.group.is_empty()) {
            if !versions.contains(&t.version) {
                versions.push(t.version.clone());
            }
        }
        versions
    }
}
