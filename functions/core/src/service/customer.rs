//! What a web customer does besides writing: read new messages, take back a request
//! for a person; continuing by SMS once the phone is proven is [`super::contact`].

use crate::error::ServiceError;
use crate::ids::ConversationId;
use crate::model::WEB_PRESENCE_WRITE_SECS;
use crate::model::{Channel, Conversation, Customer, Message, PhoneNumber, Role, Status};
use crate::replies;

use super::change::Change;
use super::queue::QueueInfo;
use super::{HandoffService, TRANSCRIPT_LIMIT};

impl HandoffService {
    /// The customer's view of a conversation after `after`.
    pub async fn customer_messages(
        &self,
        id: &ConversationId,
        after: u64,
    ) -> Result<(Conversation, Vec<Message>, Option<QueueInfo>), ServiceError> {
        let conv = self.existing(id).await?;
        let messages = self.store.messages(id, after, TRANSCRIPT_LIMIT).await?;
        self.note_web_presence(&conv).await;
        let queue = self.queue_if_waiting(&conv).await?;
        Ok((conv, messages, queue))
    }

    /// Remember that a customer who chose to continue by SMS is still on the page, so
    /// agent replies are not texted to them while they read them on the web. Written
    /// at most every few seconds; losing a race here is harmless.
    async fn note_web_presence(&self, conv: &Conversation) {
        let now = self.clock.now();
        let Some(change) = decide_presence(conv, now) else {
            return;
        };
        let (commit, _, _) = change.into_commit(None);
        if let Err(e) = self.write(commit).await {
            tracing::debug!(conversation_id = %conv.id, error = %e, "presence not recorded");
        }
    }

    /// The customer takes back their request for a person.
    pub async fn withdraw(&self, id: &ConversationId) -> Result<Conversation, ServiceError> {
        let (conv, _) = self
            .act(id, false, |ch, _| {
                if !ch.conv.withdraw()? {
                    return Ok(false);
                }
                ch.notice(replies::intl::withdrawn);
                Ok(true)
            })
            .await?;
        Ok(conv)
    }
}

/// The presence write, when one is due: only for customers who chose SMS, every few seconds.
fn decide_presence(conv: &Conversation, now: jiff::Timestamp) -> Option<Change> {
    if !conv.sms_follow_up || conv.status == Status::Resolved {
        return None;
    }
    let fresh = conv
        .web_seen_at
        .is_some_and(|seen| now.duration_since(seen).as_secs() < WEB_PRESENCE_WRITE_SECS);
    if fresh {
        return None;
    }
    let mut change = Change::of(conv.clone(), now);
    change.conv.web_seen_at = Some(now);
    Some(change)
}

/// The number joins the conversation's customer, or (when someone already texted from
/// it) the conversation joins that customer's history.
pub(super) fn decide_contact(
    change: &mut Change,
    own: Option<Customer>,
    holder: Option<Customer>,
    phone: &PhoneNumber,
) -> Result<(), ServiceError> {
    let mut customer = match holder {
        Some(h) if h.id != change.conv.customer_id => {
            // The number already belongs to a customer (they texted before):
            // this conversation joins their history.
            change.conv.customer_id = h.id.clone();
            h
        }
        Some(h) => h,
        None => {
            let mut c =
                own.unwrap_or_else(|| Customer::new(change.conv.customer_id.clone(), change.now));
            c.phone = Some(phone.clone());
            c
        }
    };
    if customer.sms_opted_out {
        return Err(ServiceError::OptedOut);
    }
    customer.open_conversation = Some(change.conv.id.clone());
    change.set_customer(customer);
    change.conv.sms_follow_up = true;
    let lang = change.conv.language;
    change.push(
        Role::System,
        replies::sms_follow_up(&phone.masked(), lang),
        Channel::Web,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CustomerId;
    use crate::model::Lang;
    use jiff::Timestamp;

    fn web() -> Change {
        let conv = Conversation::new(
            ConversationId::generate(),
            CustomerId::generate(),
            Lang::Ko,
            Channel::Web,
            Timestamp::UNIX_EPOCH,
        );
        Change::of(conv, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_known_number_brings_the_conversation_into_its_customers_history() {
        let phone = PhoneNumber::from_e164("+821012345678").unwrap();
        let mut texter = Customer::new(CustomerId::generate(), Timestamp::UNIX_EPOCH);
        texter.phone = Some(phone.clone());
        let mut ch = web();
        decide_contact(&mut ch, None, Some(texter.clone()), &phone).unwrap();
        assert_eq!(ch.conv.customer_id, texter.id);
        assert!(ch.conv.sms_follow_up);
        assert_eq!(ch.messages.len(), 1);
        texter.sms_opted_out = true;
        assert!(matches!(
            decide_contact(&mut web(), None, Some(texter), &phone),
            Err(ServiceError::OptedOut)
        ));
    }

    #[test]
    fn presence_is_written_only_when_it_matters() {
        let mut ch = web();
        assert!(decide_presence(&ch.conv, Timestamp::UNIX_EPOCH).is_none());
        ch.conv.sms_follow_up = true;
        let written = decide_presence(&ch.conv, Timestamp::UNIX_EPOCH).unwrap();
        assert!(decide_presence(&written.conv, Timestamp::UNIX_EPOCH).is_none());
    }
}
