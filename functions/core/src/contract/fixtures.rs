//! Fixtures shared by the contract checks and the stores' own tests: conversations in
//! any state (brought there by the state machine's moves), messages, commits.

use jiff::Timestamp;

use crate::ids::{AgentId, ConversationId, CustomerId, MessageId};
use crate::model::*;
use crate::ports::{Commit, ConversationWrite};

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn conversation(customer: &CustomerId) -> Conversation {
    let mut c = Conversation::new(
        ConversationId::generate(),
        customer.clone(),
        Lang::Ko,
        Channel::Web,
        at(0),
    );
    c.version = 1;
    c.topic = Some("배송비 문의".into());
    c
}

pub fn message(conv: &Conversation, seq: u64, from: Role, text: &str) -> Message {
    Message {
        id: MessageId::generate(),
        conversation_id: conv.id.clone(),
        seq,
        from,
        text: text.into(),
        at: at(seq as i64),
        channel: Channel::Web,
        agent_id: None,
        faq_id: (from == Role::Bot).then(|| "shipping-fee".to_string()),
        attachments: Vec::new(),
    }
}

pub fn create(conv: &Conversation, messages: Vec<Message>) -> Commit {
    Commit {
        conversation: Some(ConversationWrite {
            conversation: conv.clone(),
            expected_version: None,
        }),
        messages,
        ..Commit::default()
    }
}

pub fn update(conv: &Conversation, messages: Vec<Message>) -> Commit {
    let mut next = conv.clone();
    next.version += 1;
    next.last_seq += messages.len() as u64;
    Commit {
        conversation: Some(ConversationWrite {
            conversation: next,
            expected_version: Some(conv.version),
        }),
        messages,
        ..Commit::default()
    }
}

pub fn queued(customer: &CustomerId, priority: Priority, waited_from: i64) -> Conversation {
    let mut c = conversation(customer);
    let reason = if priority == Priority::High {
        HandoffReason::Threat
    } else {
        HandoffReason::CustomerAsked
    };
    c.queue(reason, "s".into(), at(waited_from))
        .expect("fixture: queue");
    c
}

pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).expect("fixture: agent id")
}

/// `conv` claimed by `agent`.
pub fn claimed(conv: &Conversation, agent: &AgentId) -> Conversation {
    let mut c = conv.clone();
    c.claim(agent).expect("fixture: claim");
    c
}

/// Assigned to `agent`, then (when `resolve`) resolved by them.
pub fn assigned(customer: &CustomerId, agent: &AgentId, resolve: bool) -> Conversation {
    let mut c = claimed(&queued(customer, Priority::Normal, 0), agent);
    if resolve {
        c.resolve(&crate::auth::Agent {
            id: agent.clone(),
            supervisor: false,
        })
        .expect("fixture: resolve");
    }
    c
}

pub fn phone(n: u32) -> PhoneNumber {
    // Random per run (UK mobile range, 9 free digits) so checks can share a long-lived table.
    let tail = (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32;
    PhoneNumber::from_e164(&format!("+447{n}{tail:08}"))
        .unwrap_or_else(|e| panic!("test phone: {e}"))
}

/// A conversation of a fresh customer, brought to `status` by the state machine's moves.
pub fn in_state(status: Status) -> Conversation {
    let customer = CustomerId::generate();
    match status {
        Status::Bot => conversation(&customer),
        Status::Queued => queued(&customer, Priority::Normal, 0),
        Status::Assigned => assigned(&customer, &agent("agent-fixture"), false),
        Status::Resolved => assigned(&customer, &agent("agent-fixture"), true),
    }
}
