//! [`Hosted`]: a [`Plugin`] running on its own runtime, seen by the host as the
//! FFI `Workload`.

use std::sync::Arc;

use abi_stable::std_types::{RResult, RString, RVec};
use tokio::runtime::Runtime;

use super::export::guard;
use super::series::check_specs;
use super::Plugin;
use crate::abi::{Batch, Counter, FireAck, Gauge, PendingTarget, SeriesDecl, Workload};

pub(crate) struct Hosted<P: Plugin> {
    plugin: Arc<P>,
    /// The series the plugin declared once started, asked once: the host
    /// and `series_in_use` see the same list all run long.
    series: Vec<SeriesDecl>,
    /// `Some` until drop, which stops it without waiting (a blocking wait in a
    /// destructor could hang the host).
    runtime: Option<Runtime>,
}

impl<P: Plugin> Hosted<P> {
    /// `plugin`, started on `runtime`, with its declared series (checked:
    /// a bad declaration is the start's error).
    pub(crate) fn new(plugin: P, runtime: Runtime) -> Result<Hosted<P>, String> {
        let specs = {
            let _entered = runtime.enter();
            plugin.series_specs()
        };
        if let Err(e) = check_specs(&specs) {
            runtime.shutdown_background();
            return Err(e);
        }
        Ok(Hosted {
            plugin: Arc::new(plugin),
            series: specs.iter().map(|s| s.to_abi()).collect(),
            runtime: Some(runtime),
        })
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("runtime lives until drop")
    }

    /// Run `f` with the plugin's runtime entered, so it may `tokio::spawn`.
    fn entered<T>(&self, f: impl FnOnce(&P) -> T) -> RResult<T, RString> {
        guard(|| {
            let _entered = self.runtime().enter();
            Ok(f(&self.plugin))
        })
    }
}

impl<P: Plugin> Workload for Hosted<P> {
    fn fire(&self, batch: Batch) -> RResult<FireAck, RString> {
        self.entered(|p| p.fire(batch))
    }

    fn counters(&self) -> RResult<RVec<Counter>, RString> {
        self.entered(|p| p.counters().into())
    }

    fn pending_targets(&self) -> RResult<RVec<PendingTarget>, RString> {
        self.entered(|p| p.pending_targets().into())
    }

    fn backlog(&self) -> RResult<RVec<Gauge>, RString> {
        self.entered(|p| p.backlog().into())
    }

    fn series_in_use(&self) -> RResult<RVec<u16>, RString> {
        guard(|| Ok(self.series.iter().map(|s| s.id).collect()))
    }

    fn series_at_start(&self) -> RResult<RVec<SeriesDecl>, RString> {
        guard(|| Ok(self.series.iter().cloned().collect()))
    }

    fn shutdown(&self) -> RResult<(), RString> {
        guard(|| {
            let plugin = Arc::clone(&self.plugin);
            self.runtime()
                .block_on(async move { plugin.shutdown().await });
            Ok(())
        })
    }
}

impl<P: Plugin> Drop for Hosted<P> {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
