//! Cloud ids known so far, by address: seeded from the plan's live ids and filled by
//! each create, so a subnet created after its VPC in the same apply finds the VPC id.

use drplan_core::address::Address;
use drplan_core::plan::Plan;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Outputs {
    ids: Mutex<BTreeMap<Address, String>>,
}

impl Outputs {
    pub fn seeded_from(plan: &Plan) -> Self {
        let ids = plan
            .changes
            .iter()
            .filter_map(|c| c.live_id.clone().map(|id| (c.address.clone(), id)))
            .collect();
        Outputs {
            ids: Mutex::new(ids),
        }
    }

    pub fn get(&self, address: &Address) -> Option<String> {
        self.ids.lock().ok().and_then(|m| m.get(address).cloned())
    }

    pub fn set(&self, address: &Address, id: String) {
        if let Ok(mut m) = self.ids.lock() {
            m.insert(address.clone(), id);
        }
    }

    pub fn forget(&self, address: &Address) {
        if let Ok(mut m) = self.ids.lock() {
            m.remove(address);
        }
    }
}
