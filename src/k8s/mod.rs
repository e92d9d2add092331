//! Reaching a cluster's Kubernetes API: kubeconfig contexts or EKS endpoint + token.

pub mod token;
