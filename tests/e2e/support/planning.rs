//! Plans made in-process with the real readers and diff, for tests that drive apply as
//! a library rather than through the CLI.

use super::moto::MotoServer;
use drplan_core::plan::{Action, Plan};
use drplan_core::resource::Resource;

/// `desired` diffed against what moto holds for `stack`.
pub async fn plan_against(moto: &MotoServer, stack: &str, desired: &[Resource]) -> Plan {
    let scope = drplan::live::ReadScope::from_resources(stack, desired);
    let mut live = drplan::live::read_live(&moto.context(), &scope).await;
    assert!(live.read_errors.is_empty(), "{:?}", live.read_errors);
    live.resolve_ids();
    let ctx = drplan_core::plan::diff::DiffContext {
        stack: stack.into(),
        environment: "prod".into(),
        spec_digest: "test".into(),
        allow_destroy: vec![],
        activated_site: None,
        imports: vec![],
        replace: Vec::new(),
        removed: Vec::new(),
        site_regions: Default::default(),
    };
    drplan_core::plan::diff::diff(desired, &live, &ctx)
}

/// `Action address` of every change that is not a no-op.
pub fn pending(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| format!("{:?} {}", c.action, c.address))
        .collect()
}
