//! The customer's photo routes: create an attachment, upload its bytes (local store
//! only; in AWS the upload URL is S3's), read a sent one, and send photos in a message.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use handoff_core::attachments::{AttachmentId, AttachmentRejected, MAX_ATTACHMENT_BYTES};
use handoff_core::ids::ConversationId;
use handoff_core::model::{Message, MessageText};
use handoff_core::service::Photos;
use handoff_http::attachment::attachment_response;
use handoff_http::{
    bearer, json_body, query, require_visible, respond, ApiError, Request, Response,
};

use crate::{ChatApi, SendReply};

#[derive(Debug, Deserialize)]
struct CreateBody {
    content_type: String,
    size: u64,
}

#[derive(Debug, Serialize)]
struct Created {
    attachment_id: AttachmentId,
    upload_url: String,
    /// Until when the URL works.
    expires_at: jiff::Timestamp,
    max_bytes: u64,
}

/// A message body that carries photos (the rest of [`crate::SendBody`]).
#[derive(Debug, Deserialize)]
pub(crate) struct PhotoMessage {
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    pub attachment_ids: Vec<String>,
}

impl ChatApi {
    fn photos(&self) -> Result<&Photos, ApiError> {
        self.photos
            .as_ref()
            .ok_or_else(|| AttachmentRejected::Unavailable.into())
    }

    /// The conversation's customer: no token 401, a token that is not this
    /// conversation's (another customer's) 403.
    fn customer_of(&self, req: &Request, id: &str) -> Result<ConversationId, ApiError> {
        let id = ConversationId::parse(id)?;
        match bearer(req) {
            None => Err(ApiError::unauthorized()),
            Some(token) if self.tokens.verify(&id, token) => Ok(id),
            Some(_) => Err(ApiError::new(
                403,
                "forbidden",
                "this token is not for this conversation",
            )),
        }
    }

    pub(crate) async fn create_attachment(&self, req: &Request, id: &str) -> Response {
        let result = async {
            let id = self.customer_of(req, id)?;
            let body: CreateBody = json_body(req)?;
            let photos = self.photos()?;
            let (a, url) = self
                .service
                .create_attachment(photos, &id, &body.content_type, body.size)
                .await?;
            Ok::<_, ApiError>(Created {
                attachment_id: a.id,
                upload_url: url,
                expires_at: a.upload_expires_at,
                max_bytes: MAX_ATTACHMENT_BYTES,
            })
        }
        .await;
        respond(201, result)
    }

    /// `PUT /v1/chat/uploads/{attachment_id}?key=…`: the URL itself is the credential,
    /// as a presigned S3 URL is; usable once, for a few minutes.
    pub(crate) async fn upload(&self, req: &Request, id: &str) -> Response {
        let result = async {
            let photos = self.photos()?;
            let id = AttachmentId::parse(id)?;
            let key = query(req, "key").unwrap_or("");
            let bytes = upload_bytes(req)?;
            let a = self
                .service
                .upload_attachment(photos, &id, key, &bytes)
                .await?;
            Ok::<_, ApiError>(serde_json::json!({"attachment_id": a.id, "size": a.size, "content_type": a.as_ref().content_type}))
        }
        .await;
        respond(200, result)
    }

    pub(crate) async fn read_attachment(&self, req: &Request, params: &[&str]) -> Response {
        let result = async {
            let id = self.customer_of(req, params.first().copied().unwrap_or(""))?;
            let attachment = AttachmentId::parse(params.get(1).copied().unwrap_or(""))?;
            let photos = self.photos()?;
            Ok::<_, ApiError>(
                self.service
                    .read_attachment(photos, &id, &attachment)
                    .await?,
            )
        }
        .await;
        match result {
            Ok((a, content)) => attachment_response(content, &a.as_ref().content_type),
            Err(e) => e.into_response(),
        }
    }

    /// A message with photos: to an existing conversation, with an optional caption.
    pub(crate) async fn send_photos(&self, req: &Request) -> Result<SendReply, ApiError> {
        let body: PhotoMessage = json_body(req)?;
        let photos = self.photos()?;
        let Some(conversation) = body.conversation_id.as_deref() else {
            return Err(ApiError::bad_request(
                "conversation_required",
                "photos are sent in a conversation: create the attachment with its conversation_id first",
            ));
        };
        let id = self.customer_of(req, conversation)?;
        let ids = body
            .attachment_ids
            .iter()
            .map(|a| AttachmentId::parse(a))
            .collect::<Result<Vec<_>, _>>()?;
        let caption = match body.text.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => {
                require_visible(t)?;
                Some(MessageText::parse(t)?)
            }
        };
        let (conv, message, queue) = self.service.send_photos(photos, &id, &ids, caption).await?;
        Ok(SendReply {
            token: self.tokens.issue(&conv.id),
            conversation_id: conv.id,
            status: conv.status,
            replies: Vec::<Message>::new(),
            queue,
            message: Some(message),
        })
    }
}

/// The raw upload, up to the photo limit (JSON routes keep their 64 KB limit).
fn upload_bytes(req: &Request) -> Result<Vec<u8>, ApiError> {
    let Some(body) = req.body.as_deref() else {
        return Ok(Vec::new());
    };
    let limit = MAX_ATTACHMENT_BYTES as usize;
    // base64 is 4 characters per 3 bytes: refuse what cannot fit before decoding it.
    let encoded_limit = (limit / 3 + 1) * 4;
    let too_large = || ApiError::from(AttachmentRejected::TooLarge(None));
    let bytes = if req.is_base64_encoded {
        if body.len() > encoded_limit + 4 {
            return Err(too_large());
        }
        STANDARD
            .decode(body.trim())
            .map_err(|_| ApiError::bad_request("invalid_body", "body is not valid base64"))?
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(bytes)
}
