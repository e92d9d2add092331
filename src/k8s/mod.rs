//! Reaching a cluster's Kubernetes API: kubeconfig contexts or EKS endpoint + token
//! (`client`), resolving kinds through discovery (`kinds`), reading a cluster's
//! objects (`live`) and changing them (`apply`). What the objects should be is
//! decided in `drplan_core::kubernetes`.

pub mod apply;
pub mod client;
pub mod clusters;
pub mod kinds;
pub mod live;
pub mod rollout;
pub mod token;
pub mod token_source;
