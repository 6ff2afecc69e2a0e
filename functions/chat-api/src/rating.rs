//! `POST /v1/chat/conversations/{id}/rating {"score": 1-5, "comment"?}`: the web
//! customer's answer to the survey after a resolve (customer token). Once: a second
//! rating is 409 `already_rated`; a conversation without a survey is 409 `no_survey`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use handoff_core::ids::ConversationId;
use handoff_core::insights::{parse_comment, Score};
use handoff_core::InputError;
use handoff_http::{json_body, ApiError, Request};

use crate::ChatApi;

#[derive(Debug, Deserialize)]
struct RatingBody {
    /// Checked here, so that 0, 6, 4.5 or "5" are a 400 naming `score`.
    score: Option<Value>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RatingReply {
    pub conversation_id: ConversationId,
    pub score: u8,
    pub comment: Option<String>,
}

/// What the widget shows after a resolve: `pending` until rated, then `done`; none
/// when no survey was asked (open, dismissed, opted out).
pub(crate) fn survey_state(conv: &handoff_core::model::Conversation) -> Option<&'static str> {
    match &conv.insight.survey {
        Some(s) if s.asked && s.rating.is_none() => Some("pending"),
        Some(s) if s.asked => Some("done"),
        _ => None,
    }
}

pub(crate) async fn rate(api: &ChatApi, req: &Request, id: &str) -> Result<RatingReply, ApiError> {
    let id = api.authorize(req, id)?;
    let body: RatingBody = json_body(req)?;
    let score = body
        .score
        .as_ref()
        .and_then(Value::as_i64)
        .ok_or_else(|| InputError::new("score", "score must be a whole number from 1 to 5"))?;
    let score = Score::new(score)?;
    let comment = parse_comment(body.comment.as_deref())?;
    let conv = api.service.rate(&id, score, comment.clone()).await?;
    Ok(RatingReply {
        conversation_id: conv.id,
        score: score.get(),
        comment,
    })
}
