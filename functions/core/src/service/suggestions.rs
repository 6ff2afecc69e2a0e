//! The bot learns from agents (see [`crate::suggestion`]): agents tag customer
//! messages with an FAQ, a resolve turns the questions people answered with an FAQ
//! into suggestions (in the resolve's own commit), and supervisors accept them into
//! the catalog — through the catalog's one write path, so the next message uses
//! them — or reject them.

use jiff::Timestamp;
use serde::Serialize;

use crate::auth::Agent;
use crate::catalog::apply;
use crate::error::{InputError, ServiceError, StoreError};
use crate::ids::ConversationId;
use crate::model::{Conversation, Role};
use crate::ports::Commit;
use crate::records::RecordWrite;
use crate::suggestion::{
    add_example, candidates, suggestions_key, tags_key, Status, Suggestion, Suggestions, Tag, Tags,
    KEEP_TEXT,
};

use super::agent::decide_resolve;
use super::catalog::catalog_writes;
use super::change::Change;
use super::credits::read_record;
use super::{retry_on_conflict, HandoffService, TRANSCRIPT_LIMIT};

/// A suggestion as supervisors see it, with the FAQ it would teach.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionView {
    #[serde(flatten)]
    pub suggestion: Suggestion,
    /// The FAQ's first example question in the agents' language; `None`: it was deleted.
    pub faq_question: Option<String>,
}

/// What a decision did.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub id: String,
    pub faq_id: String,
    pub status: Status,
    /// The catalog version after an accept (unchanged when the text was an example
    /// already); `None` after a reject.
    pub catalog_version: Option<u64>,
}

fn supervisors_only(agent: &Agent) -> Result<(), ServiceError> {
    match agent.supervisor {
        true => Ok(()),
        false => Err(ServiceError::Forbidden(
            "only supervisors can see and decide suggestions",
        )),
    }
}

impl HandoffService {
    /// The conversation's owner says FAQ `faq_id` answers customer message `seq`;
    /// the resolve turns it into a suggestion.
    pub async fn tag_message(
        &self,
        agent: &Agent,
        id: &ConversationId,
        seq: u64,
        faq_id: &str,
    ) -> Result<Tag, ServiceError> {
        let live = self.live_catalog().await;
        if live.catalog.faq(faq_id).is_none() {
            return Err(InputError::new("faq_id", format!("no FAQ with id {faq_id:?}")).into());
        }
        let key = &tags_key(id)?;
        let tag = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let conv = self.existing(id).await?;
            conv.ensure_owner(agent, "tag a message in")?;
            let found = self.store.messages(id, seq.saturating_sub(1), 1).await?;
            if !found
                .first()
                .is_some_and(|m| m.seq == seq && m.from == Role::Customer)
            {
                return Err(InputError::new(
                    "seq",
                    format!("seq: no customer message {seq} in this conversation"),
                )
                .into());
            }
            let (record, mut tags) = read_record::<Tags>(self.store.as_ref(), key, now).await?;
            let tag = Tag {
                seq,
                faq_id: faq_id.to_string(),
                by: agent.id.clone(),
                at: now,
            };
            tags.set(tag.clone())?;
            let expires = now.checked_add(KEEP_TEXT).unwrap_or(now);
            let write = RecordWrite::next(key.clone(), record.as_ref(), &tags, Some(expires))?;
            self.store.put_record(write).await?;
            Ok(tag)
        })
        .await?;
        tracing::info!(conversation_id = %id, agent = %agent.id, seq, faq_id, "message tagged");
        Ok(tag)
    }

    /// Resolves, and in the same commit suggests the questions the agent answered
    /// with an FAQ.
    pub(super) async fn resolve_and_learn(
        &self,
        agent: &Agent,
        id: &ConversationId,
    ) -> Result<Conversation, ServiceError> {
        let (conv, learned) = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let conv = self.existing(id).await?;
            let customer = self.store.customer(&conv.customer_id).await?;
            let mut change = Change::of(conv.clone(), now);
            // The resolve's own checks come first: a refused resolve reads no more.
            decide_resolve(&mut change, customer.as_ref(), agent, &self.settings)?;
            let learned = self.suggest_from(&conv, agent, now).await?;
            let count = learned.as_ref().map_or(0, |(_, n)| *n);
            change.records.extend(learned.map(|(w, _)| w));
            let (commit, conv, _) = change.into_commit(None);
            self.write(commit).await?;
            Ok((conv, count))
        })
        .await?;
        if learned > 0 {
            tracing::info!(conversation_id = %id, suggested = learned, "suggestions from a resolve");
        }
        Ok(conv)
    }

    /// The suggestions list's next version with this conversation's answered
    /// questions, and how many were added; `None` when there is nothing new.
    async fn suggest_from(
        &self,
        conv: &Conversation,
        agent: &Agent,
        now: Timestamp,
    ) -> Result<Option<(RecordWrite, usize)>, ServiceError> {
        let (_, tags) = read_record::<Tags>(self.store.as_ref(), &tags_key(&conv.id)?, now).await?;
        let messages = self.store.messages(&conv.id, 0, TRANSCRIPT_LIMIT).await?;
        let found = candidates(&messages, &tags, conv.customer_language());
        if found.is_empty() {
            return Ok(None);
        }
        let live = self.live_catalog().await;
        let key = suggestions_key();
        let (record, mut list) =
            match read_record::<Suggestions>(self.store.as_ref(), &key, now).await {
                Ok(read) => read,
                // A list that cannot be read must not stop agents resolving.
                Err(ServiceError::Store(StoreError::Corrupt(e))) => {
                    tracing::error!(error = %e, "suggestions unreadable; nothing learned");
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
        let mut added = 0;
        for c in found {
            if list.add(c, &live.catalog, &conv.id, &agent.id, now) {
                added += 1;
            }
        }
        if added == 0 {
            return Ok(None);
        }
        let expires = list.record_expiry(now);
        let write = RecordWrite::next(key, record.as_ref(), &list, Some(expires))?;
        Ok(Some((write, added)))
    }

    /// The suggestions waiting for a supervisor, oldest first.
    pub async fn suggestions(&self, agent: &Agent) -> Result<Vec<SuggestionView>, ServiceError> {
        supervisors_only(agent)?;
        let now = self.clock.now();
        let (_, list) =
            read_record::<Suggestions>(self.store.as_ref(), &suggestions_key(), now).await?;
        let live = self.live_catalog().await;
        let lang = self.settings.agent_language;
        Ok(list
            .pending(now)
            .map(|s| SuggestionView {
                faq_question: live.catalog.faq(&s.faq_id).and_then(|f| {
                    f.questions
                        .get(lang.code())
                        .or_else(|| f.questions.values().next())
                        .and_then(|q| q.first().cloned())
                }),
                suggestion: s.clone(),
            })
            .collect())
    }

    /// A supervisor accepts (the text becomes an example of its FAQ, in the same
    /// commit as the decision) or rejects a suggestion; either way its text is gone.
    pub async fn decide_suggestion(
        &self,
        agent: &Agent,
        id: &str,
        accept: bool,
    ) -> Result<Decided, ServiceError> {
        supervisors_only(agent)?;
        let key = &suggestions_key();
        let (decided, catalog) = retry_on_conflict(|| async move {
            let now = self.clock.now();
            let (record, mut list) =
                read_record::<Suggestions>(self.store.as_ref(), key, now).await?;
            let s = list.decide(id, accept, &agent.id, now)?;
            let mut records = Vec::new();
            let mut catalog = None;
            if accept {
                let (stored, current) = self.stored_catalog().await?;
                let text = s.text.as_deref().unwrap_or_default();
                let change = add_example(&current.catalog, &s.faq_id, &s.lang, text).map_err(
                    |e| match e {
                        ServiceError::FaqNotFound(id) => ServiceError::SuggestionFaqGone(id),
                        e => e,
                    },
                )?;
                catalog = Some(current.clone());
                if let Some(change) = change {
                    let next = apply(&current.catalog, &change)?;
                    let (writes, version) = catalog_writes(stored.as_ref(), &next)?;
                    records.extend(writes);
                    catalog = Some(crate::catalog::VersionedCatalog {
                        version,
                        catalog: next,
                    });
                }
            }
            let expires = list.record_expiry(now);
            records.push(RecordWrite::next(
                key.clone(),
                record.as_ref(),
                &list,
                Some(expires),
            )?);
            self.store
                .commit(Commit {
                    records,
                    ..Commit::default()
                })
                .await?;
            let decided = Decided {
                id: s.id,
                faq_id: s.faq_id,
                status: if accept {
                    Status::Accepted
                } else {
                    Status::Rejected
                },
                catalog_version: catalog.as_ref().map(|c| c.version),
            };
            Ok((decided, catalog))
        })
        .await?;
        tracing::info!(
            supervisor = %agent.id,
            suggestion = %decided.id,
            status = decided.status.as_str(),
            "suggestion decided"
        );
        if let Some(stored) = catalog {
            // This instance answers with the new example at once.
            self.catalog_written(stored);
        }
        Ok(decided)
    }
}
