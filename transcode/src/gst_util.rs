//! Small GStreamer helpers every pipeline of the worker uses.

use crate::error::WorkerError;
use gst::prelude::*;

/// Makes an element, naming the missing plugin instead of panicking when it is absent.
pub fn make(factory: &str, name: Option<&str>) -> Result<gst::Element, WorkerError> {
    let mut builder = gst::ElementFactory::make(factory);
    if let Some(name) = name {
        builder = builder.name(name);
    }
    builder.build().map_err(|_| WorkerError::ElementMissing {
        name: factory.to_owned(),
    })
}

/// A queue that holds any amount of time and bytes: a raw 1080p frame is ~3 MB, and the
/// default limits make tee branches stall each other.
pub fn unbounded_queue() -> Result<gst::Element, WorkerError> {
    let queue = make("queue", None)?;
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    Ok(queue)
}

/// Stops its pipeline (state `Null`) when dropped: a transcode cancelled mid-way (a job whose
/// lease went to another worker) would otherwise leave the pipeline's threads running.
pub struct StopOnDrop(pub gst::Pipeline);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

/// The error a bus message carries, with the failing element's path.
pub fn bus_error(message: &gst::Message) -> Option<WorkerError> {
    match message.view() {
        gst::MessageView::Error(e) => Some(WorkerError::Pipeline {
            element: e
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default(),
            message: e.error().to_string(),
            debug: e.debug().map(|d| d.to_string()).unwrap_or_default(),
        }),
        _ => None,
    }
}
