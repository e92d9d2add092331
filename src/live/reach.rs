//! The readers' gate: each (region, service) is probed once per read, raced against
//! the reads there (`crate::reach::race`). A region that does not answer costs one
//! bounded probe and is reported in `LiveState::unreachable`; its reads are dropped.

use super::FamilyRead;
use crate::aws::{AwsContext, Service};
use crate::reach::{race, Failure};
use drplan_core::live::Unreachable;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Cell = Arc<OnceCell<Option<Failure>>>;

pub(crate) struct Gate<'a> {
    ctx: &'a AwsContext,
    probes: Mutex<HashMap<(String, Service), Cell>>,
}

impl<'a> Gate<'a> {
    pub(crate) fn new(ctx: &'a AwsContext) -> Self {
        Gate {
            ctx,
            probes: Mutex::new(HashMap::new()),
        }
    }

    fn cell(&self, region: &str, service: Service) -> Cell {
        let mut probes = match self.probes.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        probes
            .entry((region.to_string(), service))
            .or_default()
            .clone()
    }

    /// `read`, the part of a family's read that talks to `service` in `region`; or,
    /// if that endpoint does not answer, nothing but the place in `unreachable`.
    pub(crate) async fn read(
        &self,
        region: &str,
        service: Service,
        read: impl Future<Output = FamilyRead>,
    ) -> FamilyRead {
        match self
            .answer(region, service, read, |r: &FamilyRead| !r.errors.is_empty())
            .await
        {
            Ok(read) => read,
            Err(lost) => FamilyRead {
                unreachable: vec![lost],
                ..FamilyRead::default()
            },
        }
    }

    /// [`Gate::read`] for a read whose answer is not yet a family's objects (the
    /// route tables a peering's routes are read from): its answer, or the place that
    /// did not answer. `failed` says when an answer may mean the place is gone.
    pub(crate) async fn answer<T>(
        &self,
        region: &str,
        service: Service,
        read: impl Future<Output = T>,
        failed: impl Fn(&T) -> bool,
    ) -> Result<T, Unreachable> {
        let cell = self.cell(region, service);
        // Every read in the same place shares one probe; a caller dropped mid-probe
        // hands it to the next.
        let probe = async {
            cell.get_or_init(|| self.ctx.probe(region, service))
                .await
                .clone()
        };
        race(probe, read, failed)
            .await
            .map_err(|(cause, detail)| Unreachable {
                site: None,
                region: Some(region.to_string()),
                service: service.name().to_string(),
                cluster: None,
                cause,
                detail,
            })
    }
}
