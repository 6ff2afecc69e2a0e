//! The survey after a resolve: one question in the customer's language, answered with
//! the widget's buttons (`rate`) or a digit by SMS within a day (`rate_by_sms`), which
//! starts no new conversation. The rating is stored on the conversation with its
//! agent, FAQs, handoff reason and channel, and counted in the same commit.

use handoff_faq::LangTag;
use jiff::SignedDuration;

use crate::error::{ServiceError, StoreError};
use crate::ids::ConversationId;
use crate::insights::texts::{survey_question, survey_thanks};
use crate::insights::{Rating, RatingRefused, Score, Survey, SMS_RATING_HOURS};
use crate::model::{Channel, Conversation, Customer, Outbound, Role, Status};

use super::change::Change;
use super::inbound::{Inbound, Received, ReplyVia};
use super::{retry_on_conflict, HandoffService, Settings};

/// On a resolve: the survey question, unless the customer is reached only by SMS and
/// opted out (then the survey is recorded as not asked).
pub(super) fn ask(ch: &mut Change, customer: Option<&Customer>, settings: &Settings) {
    let opted_out = customer.is_some_and(|c| c.sms_opted_out);
    let by_sms = ch.conv.reach_by_sms(ch.now);
    let asked = !(ch.conv.channel == Channel::Sms && opted_out);
    ch.conv.insight.survey = Some(Survey {
        at: ch.now,
        asked,
        rating: None,
    });
    if !asked {
        return;
    }
    let seq = ch.notice(|tag| survey_question(tag, by_sms));
    let question = survey_question(ch.conv.customer_language(), true);
    // By SMS the question rides on the resolve notice's text: one text, not two.
    let notice = ch.outbox.iter_mut().rev().find_map(|o| match &mut o.item {
        Outbound::CustomerSms { text, .. } => Some(text),
        _ => None,
    });
    match (notice, customer) {
        (Some(text), _) => *text = settings.sms_text(&format!("{text}\n{question}")),
        (None, Some(c)) => super::agent::notify_sms(ch, c, seq, question, settings),
        (None, None) => {}
    }
}

/// The rating onto the conversation, and one short thanks on `channel`.
fn decide_rating(
    ch: &mut Change,
    score: Score,
    comment: Option<String>,
    channel: Channel,
) -> Result<u64, ServiceError> {
    let conv = &ch.conv;
    let survey = match &conv.insight.survey {
        Some(s) if s.asked && conv.status == Status::Resolved => s,
        _ => return Err(ServiceError::Rating(RatingRefused::NoSurvey)),
    };
    if survey.rating.is_some() {
        return Err(ServiceError::Rating(RatingRefused::AlreadyRated));
    }
    let mut faqs: Vec<String> = Vec::new();
    for a in &conv.faq_answers {
        if !faqs.contains(&a.faq_id) {
            faqs.push(a.faq_id.clone());
        }
    }
    let rating = Rating {
        score,
        comment,
        at: ch.now,
        channel,
        agent: conv.assigned_to.clone(),
        faqs,
        reason: conv.handoff.as_ref().map(|h| h.reason),
    };
    if let Some(s) = ch.conv.insight.survey.as_mut() {
        s.rating = Some(rating);
    }
    let tag: LangTag = ch.conv.customer_language();
    Ok(ch.push(Role::System, survey_thanks(tag), channel).seq)
}

impl HandoffService {
    /// The web customer's rating: 200 once, then 409.
    pub async fn rate(
        &self,
        id: &ConversationId,
        score: Score,
        comment: Option<String>,
    ) -> Result<Conversation, ServiceError> {
        let comment = &comment;
        let (conv, _) = self
            .act(id, false, |ch, _| {
                decide_rating(ch, score, comment.clone(), Channel::Web)?;
                Ok(true)
            })
            .await?;
        tracing::info!(conversation_id = %conv.id, "rated");
        Ok(conv)
    }

    /// A text that is a rating: a digit 1–5 from a number whose latest conversation
    /// was resolved with a survey less than a day ago and is not rated yet. `None`:
    /// it is a normal message.
    pub(super) async fn rate_by_sms(
        &self,
        inbound: &Inbound,
        phone: &crate::model::PhoneNumber,
        score: Score,
    ) -> Result<Option<Received>, ServiceError> {
        retry_on_conflict(|| async move {
            let Some(customer) = self.store.customer_by_phone(phone).await? else {
                return Ok(None);
            };
            if customer.sms_opted_out || customer.open_conversation.is_some() {
                return Ok(None);
            }
            let latest = self.store.customer_conversations(&customer.id, 1).await?;
            let Some(conv) = latest.into_iter().next() else {
                return Ok(None);
            };
            let now = self.clock.now();
            let fresh = conv.insight.survey.as_ref().is_some_and(|s| {
                s.asked
                    && s.rating.is_none()
                    && now.duration_since(s.at) < SignedDuration::from_hours(SMS_RATING_HOURS)
            });
            if conv.status != Status::Resolved || !fresh {
                return Ok(None);
            }
            let mut ch = Change::of(conv, now);
            ch.push(
                Role::Customer,
                inbound.text.as_str().to_string(),
                Channel::Sms,
            );
            let seq = decide_rating(&mut ch, score, None, Channel::Sms)?;
            let thanks = survey_thanks(ch.conv.customer_language());
            let mut texts = Vec::new();
            match inbound.reply_via {
                ReplyVia::SmsOutbox => ch.text(seq, phone.clone(), thanks),
                ReplyVia::Response => texts.push(thanks),
            }
            let (commit, conv, messages) = ch.into_commit(inbound.idempotency.as_ref());
            match self.write(commit).await {
                Ok(()) => {}
                Err(StoreError::Duplicate) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            tracing::info!(conversation_id = %conv.id, "rated by SMS");
            let mut messages = messages.into_iter();
            Ok(Some(Received {
                conversation: conv,
                customer_message: messages.next(),
                replies: messages.collect(),
                texts,
                queue: None,
                repeat: false,
            }))
        })
        .await
    }
}
