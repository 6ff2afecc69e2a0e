//! Responses that carry a photo: the bytes (local directory) or a redirect to a
//! short-lived presigned URL (S3), the same for the customer's and the agent's route.

use aws_lambda_events::encodings::Body;
use http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    LOCATION, X_CONTENT_TYPE_OPTIONS,
};

use handoff_core::attachments::{AttachmentRejected, Content};

use crate::response::header_value;
use crate::{ApiError, Response};

impl From<AttachmentRejected> for ApiError {
    fn from(r: AttachmentRejected) -> Self {
        handoff_core::ServiceError::from(r).into()
    }
}

/// 200 with the image (opened directly it runs nothing: a sandboxing CSP), or 302 to
/// where the store serves it.
pub fn attachment_response(content: Content, content_type: &str) -> Response {
    let mut r = Response::default();
    r.headers
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    match content {
        Content::Bytes(bytes) => {
            r.status_code = 200;
            r.headers.insert(CONTENT_TYPE, header_value(content_type));
            r.headers
                .insert(CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
            r.headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            r.body = Some(Body::Binary(bytes));
            r.is_base64_encoded = true;
        }
        Content::Url(url) => {
            r.status_code = 302;
            r.headers.insert(LOCATION, header_value(&url));
        }
    }
    r
}
