//! The S3 family: `bucket` blocks (with the lifecycle and replication rules backup
//! policies compile into them). A bucket's replication destinations are links, not
//! references (`plan::links`): buckets may replicate to each other.

use super::{text, KindInfo, MarkPlace, NameKey};

pub const BUCKET: KindInfo = KindInfo {
    type_name: "aws_s3_bucket",
    stateful: true,
    regional: true,
    force_new: &["name"],
    unknown_after_apply: &[],
    regional_service: Some("s3"),
    apply_service: "s3",
    identity: |_, _, attrs| text(attrs, "name").to_string(),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: Some(NameKey {
        attr: "name",
        regional: false,
        trim_dot: false,
    }),
    importable: true,
    forgettable: true,
    estimate_create: 10,
    estimate_update: 10,
};
