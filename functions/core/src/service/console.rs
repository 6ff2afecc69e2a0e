//! The console's tools besides talking: canned answers from the FAQ catalog, private
//! notes for colleagues, and passing a conversation on.

use serde::Serialize;

use handoff_faq::language::answer_language;
use handoff_faq::LangTag;

use crate::auth::Agent;
use crate::credit::{keys, note_text, ConversationNotes, Note, MAX_NOTES};
use crate::error::{InputError, ServiceError};
use crate::ids::{AgentId, ConversationId};
use crate::model::{Conversation, Message, MessageText};
use crate::records::RecordWrite;

use super::agent::decide_reply;
use super::credits::read_record;
use super::{retry_on_conflict, HandoffService};

/// One FAQ as the console's picker lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CannedAnswer {
    pub faq_id: String,
    /// The first example question, in the agents' language when the catalog has it.
    pub question: String,
    /// The answer in the agents' language, so the agent knows what they send.
    pub answer: String,
}

impl HandoffService {
    /// The catalog's FAQs for the canned-answer picker.
    pub fn canned_answers(&self) -> Vec<CannedAnswer> {
        let lang = self.settings.agent_language;
        self.catalog()
            .faqs
            .iter()
            .map(|f| CannedAnswer {
                faq_id: f.id.clone(),
                question: f
                    .questions
                    .get(lang.code())
                    .or_else(|| f.questions.values().next())
                    .and_then(|q| q.first().cloned())
                    .unwrap_or_else(|| f.id.clone()),
                answer: f.answer_in(lang).unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// The agent sends FAQ `faq_id`'s answer, in the customer's language when the
    /// catalog has it, else the nearest one (as the bot answers).
    pub async fn canned_reply(
        &self,
        agent: &Agent,
        id: &ConversationId,
        faq_id: &str,
    ) -> Result<Message, ServiceError> {
        let unknown = || InputError::new("faq_id", format!("no FAQ with id {faq_id:?}"));
        let live = self.live_catalog().await;
        let faq = live.catalog.faq(faq_id).ok_or_else(unknown)?;
        let answer_for = |conv: &Conversation| -> Result<MessageText, ServiceError> {
            let tag: LangTag = conv.customer_language();
            let text = answer_language(tag, &live.catalog.business.languages)
                .and_then(|code| faq.answer.get(&code))
                .filter(|a| !a.trim().is_empty())
                .map(String::as_str)
                .or_else(|| faq.answer_in(conv.language))
                .ok_or_else(|| InputError::new("faq_id", "this FAQ has no answer"))?;
            Ok(MessageText::parse(text)?)
        };
        let (_, mut messages) = self
            .act(id, true, |ch, customer| {
                let text = answer_for(&ch.conv)?;
                decide_reply(ch, customer, agent, &text)?;
                if let Some(m) = ch.messages.last_mut() {
                    m.faq_id = Some(faq.id.clone());
                }
                Ok(true)
            })
            .await?;
        messages
            .pop()
            .ok_or_else(|| ServiceError::Internal("a canned answer stored no message".into()))
    }

    /// A private note on the conversation: any agent may leave one for colleagues.
    pub async fn add_note(
        &self,
        agent: &Agent,
        id: &ConversationId,
        text: &str,
    ) -> Result<Note, ServiceError> {
        let text = note_text(text)?;
        let key = &keys::notes_of(id)?;
        let text = &text;
        let note = retry_on_conflict(|| async move {
            let now = self.clock.now();
            if self.store.conversation(id).await?.is_none() {
                return Err(ServiceError::NotFound);
            }
            let (record, mut notes) =
                read_record::<ConversationNotes>(self.store.as_ref(), key, now).await?;
            if notes.notes.len() >= MAX_NOTES {
                return Err(ServiceError::TooMany(
                    "this conversation has as many notes as it can hold",
                ));
            }
            let note = Note {
                agent_id: agent.id.clone(),
                text: text.clone(),
                at: now,
            };
            notes.notes.push(note.clone());
            let write = RecordWrite::next(key.clone(), record.as_ref(), &notes, None)?;
            self.store.put_record(write).await?;
            Ok(note)
        })
        .await?;
        tracing::info!(conversation_id = %id, agent = %agent.id, "note added");
        Ok(note)
    }

    /// The conversation's notes, oldest first (for the packet).
    pub async fn conversation_notes(&self, id: &ConversationId) -> Result<Vec<Note>, ServiceError> {
        let key = keys::notes_of(id)?;
        let (_, notes) =
            read_record::<ConversationNotes>(self.store.as_ref(), &key, self.now()).await?;
        Ok(notes.notes)
    }

    /// Passes an assigned conversation to agent `to`, or back to the queue (`None`),
    /// keeping its place there. Only its owner or a supervisor.
    pub async fn transfer(
        &self,
        agent: &Agent,
        id: &ConversationId,
        to: Option<AgentId>,
    ) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .act(id, false, |ch, _| {
                ch.conv.ensure_owner(agent, "transfer")?;
                if ch.conv.assigned_to == to {
                    return Ok(false);
                }
                ch.conv.transfer(agent, to.clone())?;
                Ok(true)
            })
            .await?;
        tracing::info!(conversation_id = %id, by = %agent.id, to = ?conv.assigned_to, "transferred");
        Ok(conv)
    }
}
