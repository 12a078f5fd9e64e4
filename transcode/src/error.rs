//! Errors of the transcode worker.

/// Why a live session or the worker failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("GStreamer element {name:?} is missing: install the Debian packages gstreamer1.0-plugins-{{base,good,bad,ugly}} and gstreamer1.0-libav")]
    ElementMissing { name: String },
    #[error("the pipeline failed in {element}: {message} ({debug})")]
    Pipeline {
        element: String,
        message: String,
        debug: String,
    },
    #[error("{path} could not be transcoded: {message}")]
    Input {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("GStreamer: {0}")]
    Gst(String),
    #[error("packaging failed: {0}")]
    Packager(#[from] lectern_packager::PackagerError),
    #[error(transparent)]
    Catalog(#[from] lectern_client::ApiError),
    #[error(transparent)]
    Settings(#[from] lectern_client::SettingsError),
}

impl From<gst::glib::BoolError> for WorkerError {
    fn from(e: gst::glib::BoolError) -> Self {
        WorkerError::Gst(e.to_string())
    }
}

impl From<gst::StateChangeError> for WorkerError {
    fn from(e: gst::StateChangeError) -> Self {
        WorkerError::Gst(format!("the pipeline refused to change state: {e}"))
    }
}
