//! What a change counts: a pure function of the conversation before and after it and
//! of the messages it adds, so every use case is counted the same way, in its commit.
//!
//! Counter names (one item per day; `*` is an id or a name):
//! `conversations`, `in:web`, `in:sms`, `bot_answers`, `clarifications`, `faq:*`,
//! `handoffs`, `handoff:*` (by reason), `handed_off` (conversations handed off at least
//! once), `abandoned` (left the queue before a person took it), `resolved`,
//! `surveys`, `<d>_n`, `<d>_sum`, `<d>_le:<bound>` for the durations `claim`,
//! `first_reply` and `resolution` (seconds), `csat_n`, `csat_sum`, `csat:<1-5>`,
//! `csat_agent_n:*`, `csat_agent_sum:*`, `csat_faq_n:*`, `csat_faq_sum:*`,
//! `unanswered`, `repeat:*` (by the earlier conversation's first FAQ or handoff reason).

use jiff::Timestamp;

use crate::conversation::{Conversation, Status};
use crate::model::{Message, Role};

use super::{bucket, Counts};

pub fn add(counts: &mut Counts, name: impl Into<String>, n: i64) {
    *counts.entry(name.into()).or_insert(0) += n;
}

/// A duration into its histogram, its count and its sum.
pub fn add_duration(counts: &mut Counts, name: &str, from: Timestamp, to: Timestamp) {
    let secs = to.duration_since(from).as_secs().max(0) as u64;
    add(counts, format!("{name}_n"), 1);
    add(counts, format!("{name}_sum"), secs as i64);
    let le = bucket(secs).map_or_else(|| "inf".to_string(), |b| b.to_string());
    add(counts, format!("{name}_le:{le}"), 1);
}

/// What the change from `before` (`None`: a new conversation) to `after`, adding
/// `messages`, counts. Notes on `after` which first reply by a person was counted.
pub fn tally(
    before: Option<&Conversation>,
    after: &mut Conversation,
    messages: &[Message],
    now: Timestamp,
) -> Counts {
    let mut c = Counts::new();
    // A conversation counts once, when its customer first writes: at once for
    // one the customer starts, at the reply for one a notice started.
    let customer_wrote = messages.iter().any(|m| m.from == Role::Customer);
    if before.is_none() && !customer_wrote {
        after.insight.uncounted = true;
    } else if before.is_none() || (after.insight.uncounted && customer_wrote) {
        add(&mut c, "conversations", 1);
        after.insight.uncounted = false;
    }
    for m in messages {
        match m.from {
            Role::Customer => add(&mut c, format!("in:{}", m.channel.as_str()), 1),
            Role::Bot => match &m.faq_id {
                Some(id) => {
                    add(&mut c, "bot_answers", 1);
                    add(&mut c, format!("faq:{id}"), 1);
                }
                None => add(&mut c, "clarifications", 1),
            },
            Role::Agent => {
                if let Some(h) = &after.handoff {
                    if after.insight.replied_handoff < h.number {
                        add_duration(&mut c, "first_reply", h.requested_at, now);
                        after.insight.replied_handoff = h.number;
                    }
                }
            }
            Role::System => {}
        }
    }
    let was = before.map(|b| b.status);
    let handoffs_before = before.map_or(0, |b| b.handoffs);
    if after.handoffs > handoffs_before {
        if let Some(h) = &after.handoff {
            add(&mut c, "handoffs", 1);
            add(&mut c, format!("handoff:{}", h.reason.as_str()), 1);
        }
        if handoffs_before == 0 {
            add(&mut c, "handed_off", 1);
        }
    }
    match (was, after.status) {
        (Some(Status::Queued), Status::Assigned) => {
            if let Some(h) = &after.handoff {
                add_duration(&mut c, "claim", h.requested_at, now);
            }
        }
        (Some(Status::Queued), Status::Bot) => add(&mut c, "abandoned", 1),
        _ => {}
    }
    let survey_before = before.and_then(|b| b.insight.survey.as_ref());
    if let Some(s) = &after.insight.survey {
        if survey_before.is_none() {
            // Set by a resolve only (a dismissal leaves none).
            add(&mut c, "resolved", 1);
            add_duration(&mut c, "resolution", after.created_at, now);
            if s.asked {
                add(&mut c, "surveys", 1);
            }
        }
        let rated_before = survey_before.is_some_and(|b| b.rating.is_some());
        if let (Some(r), false) = (&s.rating, rated_before) {
            let score = i64::from(r.score.get());
            add(&mut c, "csat_n", 1);
            add(&mut c, "csat_sum", score);
            add(&mut c, format!("csat:{score}"), 1);
            if let Some(a) = &r.agent {
                add(&mut c, format!("csat_agent_n:{a}"), 1);
                add(&mut c, format!("csat_agent_sum:{a}"), score);
            }
            for f in &r.faqs {
                add(&mut c, format!("csat_faq_n:{f}"), 1);
                add(&mut c, format!("csat_faq_sum:{f}"), score);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Agent;
    use crate::ids::{AgentId, ConversationId, CustomerId};
    use crate::model::{Channel, HandoffReason, Lang};
    use jiff::SignedDuration;

    fn conv(now: Timestamp) -> Conversation {
        Conversation::new(
            ConversationId::generate(),
            CustomerId::generate(),
            Lang::En,
            Channel::Web,
            now,
        )
    }

    fn message(c: &Conversation, from: Role, seq: u64) -> Message {
        Message {
            id: crate::ids::MessageId::generate(),
            conversation_id: c.id.clone(),
            seq,
            from,
            text: "hello".into(),
            at: Timestamp::UNIX_EPOCH,
            channel: Channel::Sms,
            agent_id: None,
            faq_id: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_conversation_a_notice_starts_counts_when_the_customer_first_writes() {
        let t0 = Timestamp::UNIX_EPOCH;
        let mut c = conv(t0);
        let notice = [message(&c, Role::System, 1)];
        assert_eq!(tally(None, &mut c, &notice, t0).get("conversations"), None);
        assert!(c.insight.uncounted);
        let before = c.clone();
        let reply = [message(&c, Role::Customer, 2)];
        let n = tally(Some(&before), &mut c, &reply, t0);
        assert_eq!(n.get("conversations"), Some(&1));
        assert!(!c.insight.uncounted);
        let before = c.clone();
        let again = [message(&c, Role::Customer, 3)];
        assert_eq!(
            tally(Some(&before), &mut c, &again, t0).get("conversations"),
            None
        );
    }

    #[test]
    fn a_handoff_claim_and_resolve_are_counted_once_each() {
        let t0 = Timestamp::UNIX_EPOCH;
        let mut c = conv(t0);
        let first = [message(&c, Role::Customer, 1)];
        assert_eq!(
            tally(None, &mut c.clone(), &first, t0).get("conversations"),
            Some(&1)
        );
        let before = c.clone();
        c.queue(HandoffReason::CustomerAsked, "s".into(), t0)
            .unwrap();
        let n = tally(Some(&before), &mut c, &[], t0);
        assert_eq!(n.get("handoff:customer_asked"), Some(&1));
        assert_eq!(n.get("handed_off"), Some(&1));
        let before = c.clone();
        let agent = Agent {
            id: AgentId::parse("a").unwrap(),
            supervisor: false,
        };
        c.claim(&agent.id).unwrap();
        let t1 = t0 + SignedDuration::from_secs(70);
        let n = tally(Some(&before), &mut c, &[], t1);
        assert_eq!(n.get("claim_le:90"), Some(&1));
        assert_eq!(n.get("claim_sum"), Some(&70));
        assert_eq!(n.get("handoffs"), None, "a claim is no new handoff");
    }
}
