//! The pure decisions about a customer's message: no store, no clock; what was loaded
//! goes in, the [`Change`] comes out.

use handoff_faq::language::{answer_language, conversation_language};
use handoff_faq::{FaqCatalog, FaqIndex, LangTag};
use handoff_sms::SmsKeyword;

use crate::error::ServiceError;
use crate::model::{
    AgentAlert, Channel, Conversation, Customer, FaqAnswer, HandoffReason, Message, Priority, Role,
    Status,
};
use crate::outbox;
use crate::packet;
use crate::replies;
use crate::triage::{triage, Triage};

use super::super::change::Change;
use super::super::queue::{estimate, wait_notice};
use super::super::Settings;
use crate::waits::WaitFacts;

/// FAQ answers kept on the conversation for the packet (the transcript has them all).
pub(super) const MAX_FAQ_ANSWERS: usize = 20;

/// The customer's message joins the conversation, which follows their channel (and,
/// while the bot has it, their language).
/// Takes the customer's message. The conversation follows the customer's language
/// while the bot talks (not once a person does); "0", "ok", digits and emoji keep
/// the language it had, and a first message without words takes the catalog's.
pub(super) fn take_message(
    change: &mut Change,
    text: &str,
    catalog_language: LangTag,
    channel: Channel,
) {
    change.conv.note_channel(channel);
    if change.conv.last_seq == 0 || change.conv.status == Status::Bot {
        // Too short to tell ("HELP", "ok"): Latin letters read as English, as before.
        let fallback = match text.chars().any(|c| c.is_ascii_alphabetic()) {
            true => LangTag::En,
            false => catalog_language,
        };
        let tag = conversation_language(change.conv.detected_language, text, fallback);
        change.conv.detected_language = Some(tag);
        change.conv.language = tag.reply_lang();
    }
    change.push(Role::Customer, text.to_string(), channel);
}

fn customer_language(conv: &Conversation) -> LangTag {
    conv.customer_language()
}

/// STOP, START, HELP: the customer's SMS preferences, confirmed.
pub(super) fn decide_keyword(
    change: &mut Change,
    customer: Option<&Customer>,
    k: SmsKeyword,
    settings: &Settings,
) -> Result<(), ServiceError> {
    let (lang, channel) = (change.conv.language, change.conv.channel);
    let name = settings.business_name(lang).to_string();
    let texter = || {
        customer
            .cloned()
            .ok_or_else(|| ServiceError::Internal("an SMS without its customer".into()))
    };
    match k {
        SmsKeyword::Stop => {
            let mut c = texter()?;
            c.sms_opted_out = true;
            change.set_customer(c);
            if change.conv.status == Status::Queued {
                change.conv.withdraw()?;
            }
            change.push(Role::System, replies::sms_stopped(&name, lang), channel);
        }
        SmsKeyword::Start => {
            let mut c = texter()?;
            c.sms_opted_out = false;
            change.set_customer(c);
            change.push(Role::System, replies::sms_started(&name, lang), channel);
        }
        SmsKeyword::Help => {
            let t = replies::sms_help(&name, settings.hours.spec(), lang);
            change.push(Role::System, t, channel);
        }
    }
    Ok(())
}

/// Triage of the message against the conversation as it was before it.
pub(super) fn decide_triage(change: &Change, text: &str, index: &FaqIndex) -> Triage {
    let mut before = change.conv.clone();
    before.last_seq -= 1;
    let is_new = change.expected.is_none();
    triage(text, (!is_new).then_some(&before), index)
}

/// The bot's turn: an FAQ answer, one clarifying question, or silence while a person has it.
pub(super) fn decide_bot_turn(change: &mut Change, decision: Triage, catalog: &FaqCatalog) {
    let (lang, channel) = (change.conv.language, change.conv.channel);
    let tag = customer_language(&change.conv);
    match decision {
        Triage::ForPerson | Triage::Handoff { .. } => {}
        Triage::Answer { faq_id } => {
            // In the customer's language when the catalog has it, else the nearest.
            let answered_in = answer_language(tag, &catalog.business.languages);
            let faq = catalog.faq(&faq_id);
            let answer = answered_in
                .as_deref()
                .and_then(|code| faq.and_then(|f| f.answer.get(code)))
                .filter(|a| !a.trim().is_empty())
                .map(String::as_str)
                .or_else(|| catalog.answer(&faq_id, lang))
                .unwrap_or_default()
                .to_string();
            let answered_tag = answered_in.as_deref().and_then(LangTag::from_code);
            let text = replies::intl::faq_answer(&answer, tag, answered_tag);
            let m = change.push(Role::Bot, text, channel);
            m.faq_id = Some(faq_id.clone());
            let seq = m.seq;
            let at = change.now;
            let answers = &mut change.conv.faq_answers;
            answers.push(FaqAnswer { faq_id, seq, at });
            // Bounded, so a long conversation's item stays small (DynamoDB: 400 KB).
            let excess = answers.len().saturating_sub(MAX_FAQ_ANSWERS);
            answers.drain(..excess);
            change.conv.bot_misses = 0;
        }
        Triage::Clarify { candidates } => {
            let options: Vec<String> = candidates
                .iter()
                .filter_map(|id| catalog.faq(id))
                .filter_map(|f| {
                    f.questions
                        .get(lang.code())
                        .or_else(|| f.questions.values().next())
                        .and_then(|q| q.first().cloned())
                })
                .collect();
            change.push(Role::Bot, replies::intl::clarify(&options, tag), channel);
            change.conv.bot_misses += 1;
        }
    }
}

/// To a person: queued with a one-line summary, the customer told the honest wait
/// (`ahead` are waiting before them), the agents alerted through the outbox.
pub(super) fn decide_handoff(
    change: &mut Change,
    reason: HandoffReason,
    transcript: &[Message],
    ahead: usize,
    facts: WaitFacts,
    settings: &Settings,
) -> Result<(), ServiceError> {
    let now = change.now;
    let (lang, channel) = (change.conv.language, change.conv.channel);
    let answered: Vec<String> = change
        .conv
        .faq_answers
        .iter()
        .map(|a| a.faq_id.clone())
        .collect();
    let summary = packet::summary(reason, transcript, &answered, settings.agent_language);
    let handoff = change.conv.queue(reason, summary.clone(), now)?;
    let (priority, number) = (handoff.priority, handoff.number);

    let info = estimate(settings, facts, ahead + 1, now);
    let tag = customer_language(&change.conv);
    let notice = match info.opens_at {
        Some(opens) if !info.open_now => {
            let local = replies::local_time(&settings.hours.local(opens), lang);
            replies::intl::queued_closed(settings.hours.spec(), &local, tag)
        }
        _ => replies::waits::queued(&wait_notice(&info, settings), tag),
    };
    change.queue = Some(info);
    change.push(Role::System, notice, channel);

    let marker = if priority == Priority::High {
        "[!] "
    } else {
        ""
    };
    let alert = AgentAlert {
        conversation_id: change.conv.id.clone(),
        text: format!("{marker}{summary}"),
        link: settings
            .console_url
            .as_deref()
            .map(|u| AgentAlert::console_link(u, &change.conv.id)),
        queue: settings.queue_name.clone(),
        priority,
        language: lang,
        channel: change.conv.channel,
    };
    let open_now = change.queue.as_ref().is_some_and(|q| q.open_now);
    if open_now {
        change.outbox.push(outbox::agent_alert(alert, number, now));
    } else if let Some(h) = change.conv.handoff.as_mut() {
        // Nobody is paged at night: the opening digest lists it.
        h.after_hours = true;
    }
    tracing::info!(conversation_id = %change.conv.id, reason = reason.as_str(), priority = priority.as_str(), open_now, "handed off");
    Ok(())
}

/// The bot acknowledges what a waiting customer writes, once per handoff, with the
/// same facts as their `queue` object.
pub(super) fn decide_wait_ack(
    change: &mut Change,
    ahead: usize,
    facts: WaitFacts,
    settings: &Settings,
) {
    let Some(h) = change.conv.handoff.as_mut() else {
        return;
    };
    if change.conv.status != Status::Queued || h.acknowledged {
        return;
    }
    h.acknowledged = true;
    let info = estimate(settings, facts, ahead + 1, change.now);
    let (lang, tag) = (change.conv.language, customer_language(&change.conv));
    let text = match info.opens_at {
        Some(opens) if !info.open_now => {
            let local = replies::local_time(&settings.hours.local(opens), lang);
            replies::waits::still_waiting_closed(&local, tag)
        }
        _ => replies::waits::still_waiting(&wait_notice(&info, settings), tag),
    };
    let channel = change.conv.channel;
    change.push(Role::System, text, channel);
    change.queue = Some(info);
}

/// The one SMS reply policy: every bot and system reply, cut to the segment budget, as
/// (seq, text); nothing to a number that opted out, except the confirmation of its STOP.
pub(super) fn sms_replies(
    replies: &[Message],
    customer: Option<&Customer>,
    keyword: Option<SmsKeyword>,
    settings: &Settings,
) -> Vec<(u64, String)> {
    let opted_out = customer.is_some_and(|c| c.sms_opted_out);
    // The one confirmation carriers expect after STOP.
    if opted_out && keyword != Some(SmsKeyword::Stop) {
        return Vec::new();
    }
    replies
        .iter()
        .filter(|m| matches!(m.from, Role::Bot | Role::System))
        .map(|m| (m.seq, settings.sms_text(&m.text)))
        .collect()
}
