//! Triage: what to do with a customer's message. A pure function of the message,
//! the conversation so far and the FAQ index.

use handoff_faq::{signals, FaqDecision, FaqIndex};

use crate::model::{Conversation, HandoffReason};

#[derive(Debug, Clone, PartialEq)]
pub enum Triage {
    /// A person owns, or is about to own, the conversation: the bot stays quiet.
    ForPerson,
    /// Answer with this FAQ.
    Answer { faq_id: String },
    /// Ask once what the customer means; `candidates` are FAQ ids worth offering.
    Clarify { candidates: Vec<String> },
    /// Hand off to a person now.
    Handoff { reason: HandoffReason },
}

/// How many unhelpful bot turns in a row before a person takes over. One clarifying
/// turn is allowed; the next miss hands off.
pub const MAX_BOT_MISSES: u8 = 1;

pub fn triage(text: &str, conversation: Option<&Conversation>, index: &FaqIndex) -> Triage {
    if conversation.is_some_and(|c| c.status.with_person()) {
        return Triage::ForPerson;
    }
    // Urgency first: it decides the priority even when the customer also asked for a person.
    if let Some(urgency) = signals::urgency(text) {
        return Triage::Handoff {
            reason: HandoffReason::from_urgency(urgency),
        };
    }
    if signals::wants_human(text) {
        return Triage::Handoff {
            reason: HandoffReason::CustomerAsked,
        };
    }
    let misses = conversation.map_or(0, |c| c.bot_misses);
    match index.decide(text) {
        FaqDecision::Answer { faq_id, .. } => {
            // The same answer twice in a row did not help the first time.
            let repeated = conversation.is_some_and(|c| {
                c.faq_answers
                    .last()
                    .is_some_and(|a| a.faq_id == faq_id && a.seq == c.last_seq)
            });
            if repeated {
                Triage::Handoff {
                    reason: HandoffReason::BotCouldNotHelp,
                }
            } else {
                Triage::Answer { faq_id }
            }
        }
        FaqDecision::Unsure { candidates } if misses < MAX_BOT_MISSES => Triage::Clarify {
            candidates: candidates.into_iter().take(3).map(|r| r.faq_id).collect(),
        },
        FaqDecision::NoMatch if misses < MAX_BOT_MISSES => Triage::Clarify {
            candidates: Vec::new(),
        },
        _ => Triage::Handoff {
            reason: HandoffReason::BotCouldNotHelp,
        },
    }
}
