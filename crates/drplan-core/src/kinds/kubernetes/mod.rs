//! The Kubernetes family: `kubernetes` blocks (manifests) and the objects `backup`
//! blocks generate, applied to a cluster.

pub mod decode;

use super::{text, KindInfo, MarkPlace};

pub const OBJECT: KindInfo = KindInfo {
    type_name: "kubernetes_object",
    stateful: false,
    regional: false,
    force_new: &["cluster", "api_version", "kind", "namespace", "name"],
    unknown_after_apply: &["uid"],
    regional_service: None,
    apply_service: "kubernetes",
    identity: |_, _, attrs| {
        format!(
            "{}/{}/{}/{}/{}",
            text(attrs, "cluster"),
            text(attrs, "api_version"),
            text(attrs, "kind"),
            text(attrs, "namespace"),
            text(attrs, "name")
        )
    },
    identified_by_mark: false,
    mark: MarkPlace::Annotation,
    references: &[],
    name_key: None,
    forgettable: false,
    estimate_create: 30,
    estimate_update: 30,
    // Present only where enabled (often the active site alone).
    parity: None,
};
