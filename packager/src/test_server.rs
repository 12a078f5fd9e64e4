//! A real S3 protocol server for tests (feature `test-server`): s3s over a directory
//! (s3s-fs) on a loopback port, checking SigV4 signatures and presigned URLs against one
//! access key. Other crates' tests start it the same way to exercise S3 storage end to end.

use crate::s3::S3Settings;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "lectern-test";
/// Its secret.
pub const SECRET_KEY: &str = "lectern-test-secret-key-0123456789";
/// The bucket that exists from the start.
pub const BUCKET: &str = "lectern";

/// A running server, stopped on drop. Objects are files below a temporary directory, the
/// bucket a directory in it.
pub struct S3TestServer {
    addr: SocketAddr,
    root: tempfile::TempDir,
    service: S3Service,
    task: Option<JoinHandle<()>>,
}

impl S3TestServer {
    /// Starts a server on a free loopback port with [`BUCKET`] created.
    pub async fn start() -> std::io::Result<S3TestServer> {
        let root = tempfile::tempdir()?;
        std::fs::create_dir(root.path().join(BUCKET))?;
        let fs = s3s_fs::FileSystem::new(root.path())
            .map_err(|e| std::io::Error::other(format!("s3s-fs: {e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = Some(tokio::spawn(serve(listener, service.clone())));
        Ok(S3TestServer {
            addr,
            root,
            service,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings that reach this server with its credentials, path-style, short timeouts.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: self.endpoint(),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            path_style: true,
            connect_timeout_secs: 2,
            operation_timeout_secs: 10,
            ..S3Settings::default()
        }
    }

    /// The directory the objects are kept in (`<root>/<bucket>/<key>`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Stops answering: the listener closes and open connections are dropped, as when the
    /// store goes down. The objects stay.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Answers again on the same port after [`S3TestServer::stop`].
    pub async fn resume(&mut self) -> std::io::Result<()> {
        if self.task.is_none() {
            let listener = TcpListener::bind(self.addr).await?;
            self.task = Some(tokio::spawn(serve(listener, self.service.clone())));
        }
        Ok(())
    }
}

impl Drop for S3TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until aborted; aborting drops the set, which ends every connection.
async fn serve(listener: TcpListener, service: S3Service) {
    let http = ConnBuilder::new(TokioExecutor::new());
    let mut connections = JoinSet::new();
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let connection = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        connections.spawn(async move {
            let _ = connection.await;
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}
