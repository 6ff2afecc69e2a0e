//! Triage: what to do with a customer's message. A pure function of the message,
//! the conversation so far and the FAQ index.

use serde::Serialize;

use handoff_faq::signals::{self, Hit};
use handoff_faq::{Explanation, FaqDecision, FaqIndex, Ranked};

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

/// The evidence behind a triage decision (`handoff eval --explain`, the packet).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TriageTrace {
    /// The signal that sent the message to a person, if one did.
    pub signal: Option<Hit>,
    /// The FAQ ranking (best three), also when a signal decided.
    pub ranked: Vec<Ranked>,
    /// How the FAQ index decided.
    pub faq: Option<Explanation>,
}

/// How many unhelpful bot turns in a row before a person takes over. One clarifying
/// turn is allowed; the next miss hands off.
pub const MAX_BOT_MISSES: u8 = 1;

pub fn triage(text: &str, conversation: Option<&Conversation>, index: &FaqIndex) -> Triage {
    if conversation.is_some_and(|c| c.status.with_person()) {
        return Triage::ForPerson;
    }
    if let Some(t) = signal_triage(text, index).map(|(t, _)| t) {
        return t;
    }
    faq_triage(index.decide(text), conversation)
}

/// [`triage`] with the evidence that decided it (costs an explanation: for
/// evaluation and the packet, not the hot path).
pub fn triage_traced(
    text: &str,
    conversation: Option<&Conversation>,
    index: &FaqIndex,
) -> (Triage, TriageTrace) {
    if conversation.is_some_and(|c| c.status.with_person()) {
        return (Triage::ForPerson, TriageTrace::default());
    }
    let explanation = index.explain(text);
    let mut trace = TriageTrace {
        signal: None,
        ranked: explanation.ranked.clone(),
        faq: None,
    };
    if let Some((t, hit)) = signal_triage(text, index) {
        trace.signal = Some(hit);
        return (t, trace);
    }
    let decision = explanation.decision.clone();
    trace.faq = Some(explanation);
    (faq_triage(decision, conversation), trace)
}

/// Urgency first (it decides the priority even when the customer also asked for
/// a person), then a request for a person; by words, then by meaning (with an
/// encoder: closer to the built-in bank than to any FAQ example).
fn signal_triage(text: &str, index: &FaqIndex) -> Option<(Triage, Hit)> {
    let (urgency, hit) = signals::detect(text).or_else(|| index.meaning_signal(text))?;
    let reason = urgency.map_or(HandoffReason::CustomerAsked, HandoffReason::from_urgency);
    Some((Triage::Handoff { reason }, hit))
}

fn faq_triage(decision: FaqDecision, conversation: Option<&Conversation>) -> Triage {
    let misses = conversation.map_or(0, |c| c.bot_misses);
    match decision {
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
