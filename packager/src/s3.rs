//! [`S3Storage`]: objects in an S3 bucket through aws-sdk-s3. Any S3-compatible store works
//! (AWS, MinIO, Garage, Ceph): the endpoint, region and addressing style are settings, and
//! nothing is read from the process's AWS environment or profile files.
//!
//! This is the one S3 client wrapper of Lectern: explicit endpoint and credentials, explicit
//! connect and operation timeouts, errors formatted with their whole cause chain
//! ([`DisplayErrorContext`]) and naming the key.

use crate::error::StorageError;
use crate::storage::{cache_control_for, Storage};
use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// S3 allows no part but the last below this size.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Where the bucket is and how to reach it. Shared by the worker (uploads) and the catalog
/// (presigned GETs), so both read the same keys.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    /// The store's base URL, e.g. `https://s3.eu-central-1.amazonaws.com` or
    /// `http://127.0.0.1:3900`. HTTPS needs the `rustls` feature.
    pub endpoint: String,
    /// The signing region (`us-east-1` for most self-hosted stores; Garage uses `garage`).
    pub region: String,
    /// The bucket every object goes to; it is private and must exist.
    pub bucket: String,
    /// The access key id the requests are signed with.
    pub access_key_id: String,
    /// The secret that goes with `access_key_id`; never printed.
    pub secret_access_key: String,
    /// `true`: `http://host/bucket/key` (MinIO, Garage, Ceph without wildcard DNS);
    /// `false`: `http://bucket.host/key` (AWS).
    pub path_style: bool,
    /// How long establishing a connection may take, in seconds.
    pub connect_timeout_secs: u64,
    /// How long one whole operation (all its retries) may take, in seconds.
    pub operation_timeout_secs: u64,
    /// Objects larger than this many bytes are uploaded in parts.
    pub multipart_threshold_bytes: usize,
    /// The size of each part of a multipart upload (at least 5 MiB on real S3).
    pub part_size_bytes: usize,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            path_style: true,
            connect_timeout_secs: 5,
            operation_timeout_secs: 60,
            multipart_threshold_bytes: 16 * 1024 * 1024,
            part_size_bytes: 8 * 1024 * 1024,
        }
    }
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("path_style", &self.path_style)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("operation_timeout_secs", &self.operation_timeout_secs)
            .field("multipart_threshold_bytes", &self.multipart_threshold_bytes)
            .field("part_size_bytes", &self.part_size_bytes)
            .finish()
    }
}

impl S3Settings {
    /// Checks every setting; the error names the setting (`endpoint`, `bucket`, …) so the
    /// caller can prefix its own section name.
    pub fn validate(&self) -> Result<(), StorageError> {
        let invalid = |key: &'static str, message: &str| {
            Err(StorageError::BadSetting {
                key,
                message: message.to_owned(),
            })
        };
        let https = self.endpoint.starts_with("https://");
        if !https && !self.endpoint.starts_with("http://") {
            return invalid("endpoint", "must start with http:// or https://");
        }
        if https && !cfg!(feature = "rustls") {
            return invalid(
                "endpoint",
                "is https:// but this build has no TLS; build with the `rustls` feature",
            );
        }
        if self.region.is_empty() {
            return invalid("region", "is empty");
        }
        if self.bucket.is_empty() {
            return invalid("bucket", "is empty");
        }
        if self.access_key_id.is_empty() {
            return invalid("access_key_id", "is empty");
        }
        if self.secret_access_key.is_empty() {
            return invalid("secret_access_key", "is empty");
        }
        if self.connect_timeout_secs == 0 {
            return invalid("connect_timeout_secs", "must be at least 1");
        }
        if self.operation_timeout_secs == 0 {
            return invalid("operation_timeout_secs", "must be at least 1");
        }
        if self.part_size_bytes < MIN_PART_SIZE {
            return invalid("part_size_bytes", "must be at least 5 MiB (5242880)");
        }
        if self.multipart_threshold_bytes < self.part_size_bytes {
            return invalid(
                "multipart_threshold_bytes",
                "must be at least part_size_bytes",
            );
        }
        Ok(())
    }
}

/// Objects in one S3 bucket. Cheap to clone (the SDK client is shared).
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: aws_sdk_s3::Client,
    bucket: String,
    multipart_threshold: usize,
    part_size: usize,
}

impl S3Storage {
    /// The object at `key`, ready to read; `None` when there is none.
    async fn get_object(&self, key: &str) -> Result<Option<GetObjectOutput>, StorageError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(response) => Ok(Some(response)),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Ok(None)
            }
            Err(e) => Err(s3_error("GetObject", key, e)),
        }
    }

    /// A client for the bucket in `settings`, after [`S3Settings::validate`]. Nothing is sent
    /// until the first operation; [`Storage::check`] asks the store.
    pub fn new(settings: &S3Settings) -> Result<S3Storage, StorageError> {
        settings.validate()?;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(settings.connect_timeout_secs))
            .operation_timeout(Duration::from_secs(settings.operation_timeout_secs))
            .build();
        let credentials = Credentials::new(
            &settings.access_key_id,
            &settings.secret_access_key,
            None,
            None,
            "lectern-settings",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .http_client(http_client())
            .endpoint_url(settings.endpoint.trim_end_matches('/'))
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            .timeout_config(timeouts)
            // Checksums only where S3 requires them: several S3-compatible stores refuse the
            // newer default (CRC trailers on every upload).
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(S3Storage {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: settings.bucket.clone(),
            multipart_threshold: settings.multipart_threshold_bytes,
            part_size: settings.part_size_bytes,
        })
    }

    /// The bucket this storage writes to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The size of each part of its multipart uploads (`part_size_bytes`).
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    /// A URL that fetches `key` with a plain GET until `lifetime` has passed, with no other
    /// credentials. The URL is signed locally; nothing is sent to the store.
    pub async fn presign_get(&self, key: &str, lifetime: Duration) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(lifetime).map_err(|e| StorageError::S3 {
            operation: "presign GetObject",
            key: key.to_owned(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| s3_error("presign GetObject", key, e))?;
        Ok(request.uri().to_owned())
    }

    /// Starts a multipart upload of `key`; returns its upload id. Its parts are sent with
    /// [`S3Storage::upload_part`] and joined by [`S3Storage::complete_multipart`].
    pub async fn start_multipart(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<String, StorageError> {
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(cache_control_for(key))
            .send()
            .await
            .map_err(|e| s3_error("CreateMultipartUpload", key, e))?;
        let upload_id = upload.upload_id().ok_or_else(|| StorageError::S3 {
            operation: "CreateMultipartUpload",
            key: key.to_owned(),
            message: "the store answered without an upload id".into(),
        })?;
        Ok(upload_id.to_owned())
    }

    async fn put_multipart(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let upload_id = self.start_multipart(key, content_type).await?;
        let upload_id = upload_id.as_str();
        match self.upload_parts(key, upload_id, &body).await {
            Ok(parts) => self.complete(key, upload_id, parts).await,
            Err(e) => {
                self.abort(key, upload_id).await;
                Err(e)
            }
        }
    }

    /// The multipart upload of a file, one part in memory at a time.
    async fn put_file_multipart(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let upload_id = self.start_multipart(key, content_type).await?;
        let upload_id = upload_id.as_str();
        match self.upload_file_parts(key, upload_id, path).await {
            Ok(parts) => self.complete(key, upload_id, parts).await,
            Err(e) => {
                self.abort(key, upload_id).await;
                Err(e)
            }
        }
    }

    async fn upload_file_parts(
        &self,
        key: &str,
        upload_id: &str,
        path: &Path,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        use tokio::io::AsyncReadExt;
        let read = |source| StorageError::Read {
            path: path.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(read)?;
        let mut parts = Vec::new();
        let mut file = file.take(0);
        for number in 1.. {
            file.set_limit(self.part_size as u64);
            let mut part = Vec::with_capacity(self.part_size);
            file.read_to_end(&mut part).await.map_err(read)?;
            if part.is_empty() && number > 1 {
                break;
            }
            let done = part.len() < self.part_size;
            parts.push(
                self.upload_part(key, upload_id, number, Bytes::from(part))
                    .await?,
            );
            if done {
                break;
            }
        }
        Ok(parts)
    }

    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(), StorageError> {
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_error("CompleteMultipartUpload", key, e))
    }

    /// Parts of an abandoned upload are billed until aborted.
    async fn abort(&self, key: &str, upload_id: &str) {
        if let Err(abort) = self.abort_multipart(key, upload_id).await {
            tracing::warn!(key, error = %abort, "aborting a failed multipart upload failed");
        }
    }

    /// Sends part `number` (from 1) of the multipart upload `upload_id` of `key`. Sending a
    /// number again replaces that part.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<CompletedPart, StorageError> {
        let answer = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("UploadPart", key, e))?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .set_e_tag(answer.e_tag().map(str::to_owned))
            .build())
    }

    /// Joins parts 1 to `count` of the multipart upload `upload_id` into the object `key`,
    /// as the store lists them (so parts sent by earlier processes count too); parts above
    /// `count` are left out. An error when one of them is missing.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        count: i32,
    ) -> Result<(), StorageError> {
        let mut parts = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| s3_error("ListParts", key, e))?;
            for part in page.parts() {
                if let Some(number) = part.part_number().filter(|n| (1..=count).contains(n)) {
                    parts.push(
                        CompletedPart::builder()
                            .part_number(number)
                            .set_e_tag(part.e_tag().map(str::to_owned))
                            .build(),
                    );
                }
            }
            match page.next_part_number_marker() {
                Some(next) if page.is_truncated() == Some(true) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|part| part.part_number());
        parts.dedup_by_key(|part| part.part_number());
        if parts.len() != usize::try_from(count).unwrap_or(0) {
            return Err(StorageError::S3 {
                operation: "CompleteMultipartUpload",
                key: key.to_owned(),
                message: format!("the store holds {} of the {count} parts", parts.len()),
            });
        }
        self.complete(key, upload_id, parts).await
    }

    /// Abandons the multipart upload `upload_id` of `key`: the store drops its parts.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_error("AbortMultipartUpload", key, e))
    }

    /// Deletes the object `key`; nothing there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_error("DeleteObject", key, e))
    }

    /// True when the object `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_not_found() => Ok(false),
            Err(e) => Err(s3_error("HeadObject", key, e)),
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        body: &Bytes,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        let mut parts = Vec::new();
        for (index, start) in (0..body.len()).step_by(self.part_size).enumerate() {
            let number = i32::try_from(index + 1).map_err(|_| StorageError::S3 {
                operation: "UploadPart",
                key: key.to_owned(),
                message: "more parts than S3 allows".into(),
            })?;
            let end = (start + self.part_size).min(body.len());
            parts.push(
                self.upload_part(key, upload_id, number, body.slice(start..end))
                    .await?,
            );
        }
        Ok(parts)
    }
}

#[async_trait]
impl Storage for S3Storage {
    #[tracing::instrument(skip(self, body), fields(bucket = %self.bucket, bytes = body.len()))]
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StorageError> {
        if body.len() > self.multipart_threshold {
            return self.put_multipart(key, body, content_type).await;
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(cache_control_for(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error("PutObject", key, e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(bucket = %self.bucket))]
    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|source| StorageError::Read {
                path: path.to_owned(),
                source,
            })?
            .len();
        if size > self.multipart_threshold as u64 {
            return self.put_file_multipart(key, path, content_type).await;
        }
        let body = tokio::fs::read(path)
            .await
            .map_err(|source| StorageError::Read {
                path: path.to_owned(),
                source,
            })?;
        self.put(key, body.into(), content_type).await
    }

    #[tracing::instrument(skip(self), fields(bucket = %self.bucket))]
    async fn get_file(&self, key: &str, path: &Path) -> Result<bool, StorageError> {
        let Some(response) = self.get_object(key).await? else {
            return Ok(false);
        };
        let write = |source| StorageError::Write {
            path: path.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::create(path).await.map_err(write)?;
        let mut body = response.body.into_async_read();
        tokio::io::copy(&mut body, &mut file).await.map_err(write)?;
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(write)?;
        Ok(true)
    }

    #[tracing::instrument(skip(self), fields(bucket = %self.bucket))]
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let Some(response) = self.get_object(key).await? else {
            return Ok(None);
        };
        let body = response
            .body
            .collect()
            .await
            .map_err(|e| StorageError::S3 {
                operation: "GetObject",
                key: key.to_owned(),
                message: format!("reading the body: {}", DisplayErrorContext(&e)),
            })?;
        Ok(Some(body.into_bytes()))
    }

    /// Lists the keys below `prefix/` page by page and deletes each page in one
    /// DeleteObjects call (up to 1000 keys, the listing's page size).
    #[tracing::instrument(skip(self), fields(bucket = %self.bucket))]
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let prefix = format!("{}/", prefix.trim_end_matches('/'));
        let mut deleted = 0;
        loop {
            // Listing again from the start after each delete needs no continuation token.
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .send()
                .await
                .map_err(|e| s3_error("ListObjectsV2", &prefix, e))?;
            let mut objects = Vec::new();
            for object in page.contents() {
                if let Some(key) = object.key() {
                    let id = ObjectIdentifier::builder().key(key).build().map_err(|e| {
                        StorageError::S3 {
                            operation: "DeleteObjects",
                            key: key.to_owned(),
                            message: e.to_string(),
                        }
                    })?;
                    objects.push(id);
                }
            }
            if objects.is_empty() {
                return Ok(deleted);
            }
            let count = objects.len() as u64;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StorageError::S3 {
                    operation: "DeleteObjects",
                    key: prefix.clone(),
                    message: e.to_string(),
                })?;
            let answer = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| s3_error("DeleteObjects", &prefix, e))?;
            if let Some(error) = answer.errors().first() {
                return Err(StorageError::S3 {
                    operation: "DeleteObjects",
                    key: error.key().unwrap_or(&prefix).to_owned(),
                    message: error.message().unwrap_or("refused").to_owned(),
                });
            }
            deleted += count;
        }
    }

    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }

    /// Asks the store whether the bucket exists and the credentials may use it.
    async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| s3_error("HeadBucket", &self.bucket, e))?;
        Ok(())
    }

    async fn presigned_get(
        &self,
        key: &str,
        lifetime: Duration,
    ) -> Result<Option<String>, StorageError> {
        self.presign_get(key, lifetime).await.map(Some)
    }
}

/// The HTTP client: plain HTTP always, HTTPS (rustls with ring, the system's roots) with
/// the `rustls` feature.
fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    #[cfg(feature = "rustls")]
    {
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https()
    }
    #[cfg(not(feature = "rustls"))]
    {
        aws_smithy_http_client::Builder::new().build_http()
    }
}

/// A failed SDK call as one readable line: the store's error code, message and HTTP status
/// for a refusal, the cause chain for a transport failure (connect refused, timeout). The
/// full [`DisplayErrorContext`], with the raw response, goes to the debug log.
fn s3_error<E>(operation: &'static str, key: &str, error: SdkError<E, HttpResponse>) -> StorageError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    tracing::debug!(operation, key, error = %DisplayErrorContext(&error), "S3 request failed");
    let message = match &error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("{} (HTTP {status})", error_chain(e)),
            }
        }
        other => error_chain(other),
    };
    StorageError::S3 {
        operation,
        key: key.to_owned(),
        message,
    }
}

/// `outer: inner: innermost`, each cause once.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
