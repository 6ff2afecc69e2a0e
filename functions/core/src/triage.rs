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
    /// The words alone were sure: no embedding, no matching by meaning.
    pub by_words_alone: bool,
}

/// How many unhelpful bot turns in a row before a person takes over. One clarifying
/// turn is allowed; the next miss hands off.
pub const MAX_BOT_MISSES: u8 = 1;

pub fn triage(text: &str, conversation: Option<&Conversation>, index: &FaqIndex) -> Triage {
    if conversation.is_some_and(|c| c.status.with_person()) {
        return Triage::ForPerson;
    }
    if let Some((t, _)) = word_signal(text) {
        return t;
    }
    if let Some(sure) = index.sure_by_words(text) {
        return faq_triage(sure, conversation);
    }
    if let Some((t, _)) = meaning_signal(text, index) {
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
        by_words_alone: false,
    };
    if let Some((t, hit)) = word_signal(text) {
        trace.signal = Some(hit);
        return (t, trace);
    }
    if let Some(sure) = index.sure_by_words(text) {
        trace.by_words_alone = true;
        let mut explanation = explanation;
        explanation.decision = sure.clone();
        trace.faq = Some(explanation);
        return (faq_triage(sure, conversation), trace);
    }
    if let Some((t, hit)) = meaning_signal(text, index) {
        trace.signal = Some(hit);
        return (t, trace);
    }
    let decision = explanation.decision.clone();
    trace.faq = Some(explanation);
    (faq_triage(decision, conversation), trace)
}

/// Urgency first (it decides the priority even when the customer also asked for
/// a person), then a request for a person, by words. Matching by meaning
/// ([`meaning_signal`]) comes after the words-only fast path, whose thresholds
/// no sentence of the bank passes.
fn word_signal(text: &str) -> Option<(Triage, Hit)> {
    signals::detect(text).map(handoff)
}

/// With an encoder: closer to the built-in bank than to any FAQ example.
fn meaning_signal(text: &str, index: &FaqIndex) -> Option<(Triage, Hit)> {
    index.meaning_signal(text).map(handoff)
}

fn handoff((urgency, hit): (Option<signals::Urgency>, Hit)) -> (Triage, Hit) {
    let reason = urgency.map_or(HandoffReason::CustomerAsked, HandoffReason::from_urgency);
    (Triage::Handoff { reason }, hit)
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
