//! Loading a project: HCL files -> evaluated, validated [`crate::model::Project`].
