//! [`Hosted`]: a [`Plugin`] running on its own runtime, seen by the host as the
//! FFI `Workload`.

use std::sync::Arc;

use abi_stable::std_types::{RResult, RString, RVec};
use tokio::runtime::Runtime;

use super::ahead::Ahead;
use super::export::guard;
use super::series::check_specs;
use super::Plugin;
use crate::abi::{Batch, Counter, FireAck, Gauge, PendingTarget, SeriesDecl, SinkBox, Workload};

pub(crate) struct Hosted<P: Plugin> {
    plugin: Arc<P>,
    /// The series the plugin declared once started, asked once: the host
    /// and `series_in_use` see the same list all run long.
    series: Vec<SeriesDecl>,
    /// Batches handed ahead, fired at their times by a task on the runtime
    /// (`None` for a plugin that answers in `fire`).
    ahead: Option<Arc<Ahead>>,
    /// `Some` until drop, which stops it without waiting (a blocking wait in a
    /// destructor could hang the host).
    runtime: Option<Runtime>,
}

impl<P: Plugin> Hosted<P> {
    /// `plugin`, started on `runtime`, with its declared series (checked:
    /// a bad declaration is the start's error).
    /// With `fire_ahead` (the host's sink, which hears what became of each
    /// batch) it takes batches ahead; without, the host fires them.
    pub(crate) fn new(
        plugin: P,
        runtime: Runtime,
        fire_ahead: Option<Arc<SinkBox>>,
    ) -> Result<Hosted<P>, String> {
        let plugin = Arc::new(plugin);
        let started = {
            let _entered = runtime.enter();
            let specs = plugin.series_specs();
            check_specs(&specs).and_then(|()| {
                let ahead = match fire_ahead {
                    Some(sink) => Some(Self::start_dispatcher(&plugin, sink)?),
                    None => None,
                };
                Ok((specs, ahead))
            })
        };
        match started {
            Ok((specs, ahead)) => Ok(Hosted {
                plugin,
                series: specs.iter().map(|s| s.to_abi()).collect(),
                ahead,
                runtime: Some(runtime),
            }),
            Err(e) => {
                runtime.shutdown_background();
                Err(e)
            }
        }
    }

    /// The task that fires batches handed ahead; the runtime must be entered.
    fn start_dispatcher(plugin: &Arc<P>, sink: Arc<SinkBox>) -> Result<Arc<Ahead>, String> {
        let ahead = Ahead::new().map_err(|e| format!("cannot create the fire timer: {e}"))?;
        let plugin = Arc::clone(plugin);
        tokio::spawn(Arc::clone(&ahead).dispatch(
            move |batch| {
                guard(|| Ok(plugin.fire(batch)))
                    .into_result()
                    .map_err(|e| e.into())
            },
            move |fired| sink.fired(fired),
        ));
        Ok(ahead)
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

    fn fires_ahead(&self) -> bool {
        self.ahead.is_some()
    }

    fn fire_ahead(&self, batch: Batch) -> RResult<(), RString> {
        guard(|| match &self.ahead {
            Some(ahead) => {
                ahead.push(batch);
                Ok(())
            }
            None => Err("this plugin answers in fire: it takes no batches ahead".into()),
        })
    }

    fn discard_ahead(&self) -> RResult<u64, RString> {
        guard(|| Ok(self.ahead.as_ref().map_or(0, |a| a.discard())))
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
