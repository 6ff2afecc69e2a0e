//! The conversation and its state machine. Every change of `status` happens here, in
//! `Conversation::enter`, and only along a row of [`TRANSITIONS`]; the README's
//! state table is checked against that table by a test.

use handoff_faq::LangTag;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::auth::Agent;
use crate::ids::{AgentId, ConversationId, CustomerId};
use crate::model::{Channel, FaqAnswer, Handoff, HandoffReason, Lang, WEB_PRESENCE_SECS};

/// Where a conversation stands; see [`TRANSITIONS`] for how it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Bot,
    Queued,
    Assigned,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Bot,
        Status::Queued,
        Status::Assigned,
        Status::Resolved,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Bot => "bot",
            Status::Queued => "queued",
            Status::Assigned => "assigned",
            Status::Resolved => "resolved",
        }
    }
    /// Whether a person is (or is about to be) handling the conversation.
    pub fn with_person(self) -> bool {
        matches!(self, Status::Queued | Status::Assigned)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The moves a conversation can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The customer needs a person: into the agents' queue.
    Queue,
    /// An agent takes a queued conversation.
    Claim,
    /// The agent hands the conversation back to the bot.
    Release,
    /// The agent closes the conversation.
    Resolve,
    /// The customer takes back the request for a person (or texts STOP).
    Withdraw,
    /// The owner (or a supervisor) passes the conversation to another agent or back to the queue.
    Transfer,
    /// A supervisor closes junk from any open state.
    Dismiss,
}

impl Action {
    /// The method's name, as the README's table lists it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Queue => "queue",
            Action::Claim => "claim",
            Action::Release => "release",
            Action::Resolve => "resolve",
            Action::Withdraw => "withdraw",
            Action::Transfer => "transfer",
            Action::Dismiss => "dismiss",
        }
    }
    /// The verb in error messages ("cannot hand back a conversation that is queued").
    pub fn verb(self) -> &'static str {
        match self {
            Action::Release => "hand back",
            other => other.name(),
        }
    }
}

/// Every legal move: (from, action, to, when). Nothing else changes a status.
pub const TRANSITIONS: &[(Status, Action, Status, &str)] = &[
    (
        Status::Bot,
        Action::Queue,
        Status::Queued,
        "the customer asks for a person, is urgent, or the bot could not help",
    ),
    (
        Status::Queued,
        Action::Claim,
        Status::Assigned,
        "an agent claims it (one winner)",
    ),
    (
        Status::Queued,
        Action::Withdraw,
        Status::Bot,
        "the customer withdraws, or texts STOP",
    ),
    (
        Status::Assigned,
        Action::Release,
        Status::Bot,
        "the agent hands back to the bot",
    ),
    (
        Status::Assigned,
        Action::Resolve,
        Status::Resolved,
        "the agent resolves it",
    ),
    (
        Status::Assigned,
        Action::Transfer,
        Status::Assigned,
        "the owner or a supervisor passes it to another agent",
    ),
    (
        Status::Assigned,
        Action::Transfer,
        Status::Queued,
        "the owner or a supervisor puts it back in the queue",
    ),
    (
        Status::Bot,
        Action::Dismiss,
        Status::Resolved,
        "a supervisor closes junk",
    ),
    (
        Status::Queued,
        Action::Dismiss,
        Status::Resolved,
        "a supervisor closes junk",
    ),
    (
        Status::Assigned,
        Action::Dismiss,
        Status::Resolved,
        "a supervisor closes junk",
    ),
];

/// The state table as the README shows it (between its `state-machine` markers).
pub fn state_table() -> String {
    let mut out = String::from("| from | transition | to | when |\n|---|---|---|---|\n");
    for (from, action, to, when) in TRANSITIONS {
        out.push_str(&format!(
            "| `{from}` | `{}` | `{to}` | {when} |\n",
            action.name()
        ));
    }
    out
}

/// A move the state machine does not allow, or an agent who may not make it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {action} a conversation that is {from}")]
    Illegal { from: Status, action: &'static str },
    #[error("conversation is already claimed by {by}")]
    AlreadyClaimed { by: AgentId },
    #[error("conversation is assigned to {owner}, not to you")]
    NotOwner { owner: AgentId },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub customer_id: CustomerId,
    /// Read freely; changed only by the transition methods below.
    pub status: Status,
    pub assigned_to: Option<AgentId>,
    /// The language of system texts and answers (Korean or English).
    pub language: Lang,
    /// The language the customer writes in, as detected (any language); "0", "ok",
    /// digits and emoji never change it. Shown to agents in the packet and queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_language: Option<LangTag>,
    /// The channel of the customer's latest message: where replies go.
    pub channel: Channel,
    /// Every channel the customer used in this conversation.
    pub channels: Vec<Channel>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Sequence number of the newest message (messages are numbered from 1).
    pub last_seq: u64,
    /// Optimistic-concurrency version; every committed change adds one.
    pub version: u64,
    /// Consecutive bot turns that did not help (clarifying questions, repeated answers).
    pub bot_misses: u8,
    pub handoff: Option<Handoff>,
    pub handoffs: u32,
    pub faq_answers: Vec<FaqAnswer>,
    /// The customer chose to continue by SMS: agent replies also go to their phone.
    pub sms_follow_up: bool,
    /// When the web widget last fetched messages: whether the customer is still on the page.
    #[serde(default)]
    pub web_seen_at: Option<Timestamp>,
    /// The customer's first message, clipped: what the conversation is about.
    pub topic: Option<String>,
    /// What the business learns from it: the survey and what was counted.
    #[serde(default)]
    pub insight: crate::insights::ConversationInsight,
    /// The known-problem notices this conversation was told (ids), each told once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents_told: Vec<crate::incident::IncidentId>,
}

impl Conversation {
    pub fn new(
        id: ConversationId,
        customer_id: CustomerId,
        language: Lang,
        channel: Channel,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            customer_id,
            status: Status::Bot,
            assigned_to: None,
            language,
            detected_language: None,
            channel,
            channels: vec![channel],
            created_at: now,
            updated_at: now,
            last_seq: 0,
            version: 0,
            bot_misses: 0,
            handoff: None,
            handoffs: 0,
            faq_answers: Vec::new(),
            sms_follow_up: false,
            web_seen_at: None,
            topic: None,
            insight: Default::default(),
            incidents_told: Vec::new(),
        }
    }

    /// The customer's language: detected, else the language of the replies.
    pub fn customer_language(&self) -> LangTag {
        self.detected_language
            .unwrap_or_else(|| LangTag::from(self.language))
    }

    /// The one place a status changes: only along a row of [`TRANSITIONS`].
    fn enter(&mut self, action: Action, to: Status) -> Result<(), TransitionError> {
        let from = self.status;
        if !TRANSITIONS
            .iter()
            .any(|(f, a, t, _)| (*f, *a, *t) == (from, action, to))
        {
            return Err(TransitionError::Illegal {
                from,
                action: action.verb(),
            });
        }
        self.status = to;
        Ok(())
    }

    /// Into the queue: the handoff is recorded with its own number, so each gets its own alert.
    pub fn queue(
        &mut self,
        reason: HandoffReason,
        summary: String,
        now: Timestamp,
    ) -> Result<&Handoff, TransitionError> {
        self.enter(Action::Queue, Status::Queued)?;
        self.assigned_to = None;
        self.bot_misses = 0;
        self.handoffs += 1;
        Ok(self.handoff.insert(Handoff {
            reason,
            priority: reason.priority(),
            requested_at: now,
            summary,
            number: self.handoffs,
            after_hours: false,
            acknowledged: false,
            escalated_at: None,
        }))
    }

    /// An agent takes the conversation. `Ok(false)`: it is already theirs, nothing changes.
    pub fn claim(&mut self, agent: &AgentId) -> Result<bool, TransitionError> {
        match (self.status, &self.assigned_to) {
            (Status::Assigned, Some(owner)) if owner == agent => return Ok(false),
            (Status::Assigned, Some(owner)) => {
                return Err(TransitionError::AlreadyClaimed { by: owner.clone() })
            }
            _ => {}
        }
        self.enter(Action::Claim, Status::Assigned)?;
        self.assigned_to = Some(agent.clone());
        Ok(true)
    }

    /// Whether `agent` may act on the conversation as its owner (a supervisor always may).
    pub fn ensure_owner(&self, agent: &Agent, action: &'static str) -> Result<(), TransitionError> {
        match (self.status, &self.assigned_to) {
            (Status::Assigned, Some(owner)) if owner == &agent.id || agent.supervisor => Ok(()),
            (Status::Assigned, Some(owner)) => Err(TransitionError::NotOwner {
                owner: owner.clone(),
            }),
            (from, _) => Err(TransitionError::Illegal { from, action }),
        }
    }

    /// Back to the bot, which starts afresh.
    pub fn release(&mut self, by: &Agent) -> Result<(), TransitionError> {
        self.ensure_owner(by, Action::Release.verb())?;
        self.enter(Action::Release, Status::Bot)?;
        self.assigned_to = None;
        self.bot_misses = 0;
        Ok(())
    }

    pub fn resolve(&mut self, by: &Agent) -> Result<(), TransitionError> {
        self.ensure_owner(by, Action::Resolve.verb())?;
        self.enter(Action::Resolve, Status::Resolved)
    }

    /// The customer no longer waits for a person. `Ok(false)`: the bot has it already.
    pub fn withdraw(&mut self) -> Result<bool, TransitionError> {
        if self.status == Status::Bot {
            return Ok(false);
        }
        self.enter(Action::Withdraw, Status::Bot)?;
        Ok(true)
    }

    /// To another agent, or back to the queue (`None`), keeping the customer's place.
    pub fn transfer(&mut self, by: &Agent, to: Option<AgentId>) -> Result<(), TransitionError> {
        self.ensure_owner(by, Action::Transfer.verb())?;
        match to {
            Some(agent) => {
                self.enter(Action::Transfer, Status::Assigned)?;
                self.assigned_to = Some(agent);
            }
            None => {
                self.enter(Action::Transfer, Status::Queued)?;
                self.assigned_to = None;
            }
        }
        Ok(())
    }

    /// Supervisors were told nobody claimed the waiting handoff: once per handoff.
    /// `Ok(false)`: already escalated, nothing changes.
    pub fn escalate(&mut self, now: Timestamp) -> Result<bool, TransitionError> {
        match (self.status, self.handoff.as_mut()) {
            (Status::Queued, Some(h)) if h.escalated_at.is_none() => {
                h.escalated_at = Some(now);
                Ok(true)
            }
            (Status::Queued, Some(_)) => Ok(false),
            (from, _) => Err(TransitionError::Illegal {
                from,
                action: "escalate",
            }),
        }
    }

    /// Closed as junk, from any open state (the caller checks that a supervisor asks).
    pub fn dismiss(&mut self) -> Result<(), TransitionError> {
        self.enter(Action::Dismiss, Status::Resolved)
    }

    /// Sort key of the agent queue: priority, then who has waited longest.
    pub fn queue_key(&self) -> Option<(u8, i64)> {
        match (&self.status, &self.handoff) {
            (Status::Queued, Some(h)) => Some((h.priority.rank(), h.requested_at.as_millisecond())),
            _ => None,
        }
    }

    /// Whether replies should also go by SMS: the customer texts us, or chose to
    /// continue by SMS and is no longer on the web page.
    pub fn reach_by_sms(&self, now: Timestamp) -> bool {
        self.channel == Channel::Sms
            || (self.sms_follow_up
                && self
                    .web_seen_at
                    .is_none_or(|seen| now.duration_since(seen).as_secs() >= WEB_PRESENCE_SECS))
    }

    pub fn note_channel(&mut self, channel: Channel) {
        self.channel = channel;
        if !self.channels.contains(&channel) {
            self.channels.push(channel);
        }
    }
}

#[cfg(test)]
mod tests;
