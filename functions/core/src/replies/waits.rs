//! What a waiting customer is told, from the same facts as their `queue` object:
//! their place, who is working, a wait only when recent claims give one, and what
//! happens if nobody picks up. Korean, English, Japanese and Chinese; English otherwise.

use handoff_faq::LangTag;

/// The facts a wait notice states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitNotice {
    pub position: usize,
    pub agents_online: usize,
    /// From the median of recent claims; `None`: no figure is honest.
    pub wait_seconds: Option<u64>,
    /// Supervisors are alerted after this many minutes unclaimed.
    pub escalate_minutes: u64,
}

fn minutes(seconds: u64) -> u64 {
    seconds.div_ceil(60).max(1)
}

/// The part every notice shares: who is working and how long it may take.
fn facts(n: &WaitNotice, tag: LangTag) -> String {
    let (p, a, e) = (n.position, n.agents_online, n.escalate_minutes);
    match (tag, n.agents_online, n.wait_seconds) {
        (LangTag::Ko, 0, _) => format!("대기 순서는 {p}번째예요. 지금은 상담 중인 상담원이 없어서 예상 대기 시간을 알려 드릴 수 없어요. {e}분 안에 아무도 답하지 않으면 책임자에게 바로 알릴게요."),
        (LangTag::Ko, _, Some(w)) => format!("대기 순서는 {p}번째이고, 지금 상담원 {a}명이 상담 중이에요. 최근 대기 시간으로 보면 약 {}분 걸릴 거예요.", minutes(w)),
        (LangTag::Ko, _, None) => format!("대기 순서는 {p}번째이고, 지금 상담원 {a}명이 상담 중이에요. {e}분 안에 아무도 답하지 않으면 책임자에게 알릴게요."),
        (LangTag::Ja, 0, _) => format!("現在 {p} 番目です。いま対応中の担当者がいないため、待ち時間はお伝えできません。{e} 分以内に誰も応答しない場合は責任者に知らせます。"),
        (LangTag::Ja, _, Some(w)) => format!("現在 {p} 番目で、担当者 {a} 名が対応中です。最近の待ち時間から、約 {} 分の見込みです。", minutes(w)),
        (LangTag::Ja, _, None) => format!("現在 {p} 番目で、担当者 {a} 名が対応中です。{e} 分以内に誰も応答しない場合は責任者に知らせます。"),
        (LangTag::Zh, 0, _) => format!("您当前排在第 {p} 位。现在没有客服在线，无法估计等待时间。如果 {e} 分钟内无人接待，我们会通知主管。"),
        (LangTag::Zh, _, Some(w)) => format!("您当前排在第 {p} 位，现在有 {a} 位客服在线。根据最近的等待时间，预计约 {} 分钟。", minutes(w)),
        (LangTag::Zh, _, None) => format!("您当前排在第 {p} 位，现在有 {a} 位客服在线。如果 {e} 分钟内无人接待，我们会通知主管。"),
        (_, 0, _) => format!("You are number {p} in line. Nobody from our team is online right now, so we can't give you a wait time; if nobody picks up within {e} min, a supervisor is alerted."),
        (_, _, Some(w)) => format!("You are number {p} in line and {a} of our team {} online; recent waits suggest about {} min.", if a == 1 { "is" } else { "are" }, minutes(w)),
        (_, _, None) => format!("You are number {p} in line and {a} of our team {} online; if nobody picks up within {e} min, a supervisor is alerted.", if a == 1 { "is" } else { "are" }),
    }
}

/// The handoff notice in agent hours.
pub fn queued(n: &WaitNotice, tag: LangTag) -> String {
    let f = facts(n, tag);
    match tag {
        LangTag::Ko => format!("상담원에게 연결해 드릴게요. {f} 지금까지의 대화는 상담원이 모두 보게 되니 다시 설명하지 않으셔도 돼요."),
        LangTag::Ja => format!("担当者におつなぎします。{f}これまでの会話は担当者が確認しますので、同じ説明を繰り返す必要はありません。"),
        LangTag::Zh => format!("正在为您转接人工客服。{f}客服会看到完整的对话记录，您无需重复说明。"),
        _ => format!("I'm connecting you with a person. {f} They will see this whole conversation, so you won't need to repeat yourself."),
    }
}

/// The one acknowledgement of messages written while waiting, in agent hours.
pub fn still_waiting(n: &WaitNotice, tag: LangTag) -> String {
    let f = facts(n, tag);
    match tag {
        LangTag::Ko => format!("메시지를 받았어요. 상담원이 이어서 볼 거예요. {f}"),
        LangTag::Ja => format!("メッセージを受け取りました。担当者が続けて確認します。{f}"),
        LangTag::Zh => format!("已收到您的消息，客服会一并查看。{f}"),
        _ => format!("Got it — your messages are kept for the person who picks this up. {f}"),
    }
}

/// The one acknowledgement of messages written while waiting, outside agent hours.
pub fn still_waiting_closed(opens: &str, tag: LangTag) -> String {
    match tag {
        LangTag::Ko => format!("메시지를 받았어요. 상담원이 {opens}부터 순서대로 확인해 답변드릴게요."),
        LangTag::Ja => format!("メッセージを受け取りました。{opens} から順番に担当者が確認してご返信します。"),
        LangTag::Zh => format!("已收到您的消息。客服将从 {opens} 起按顺序查看并回复。"),
        _ => format!("Got it — your messages are kept. A person will read them and reply from {opens}, in the order customers wrote in."),
    }
}

/// The honest update when nobody claimed the conversation in time.
pub fn escalated(position: usize, tag: LangTag) -> String {
    match tag {
        LangTag::Ko => format!("기다리게 해서 죄송해요. 아직 상담원이 배정되지 않아 책임자에게 알렸어요. 대기 순서는 {position}번째이고, 순서는 그대로 유지돼요."),
        LangTag::Ja => format!("お待たせして申し訳ありません。まだ担当者が決まっていないため、責任者に知らせました。現在 {position} 番目で、順番はそのまま保たれます。"),
        LangTag::Zh => format!("抱歉让您久等了。目前还没有客服接待，我们已通知主管。您排在第 {position} 位，顺序保持不变。"),
        _ => format!("Sorry for the wait — nobody has picked up your conversation yet, so we've alerted a supervisor. You are number {position} in line and keep your place."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_state_only_the_facts() {
        let nobody = WaitNotice {
            position: 2,
            agents_online: 0,
            wait_seconds: None,
            escalate_minutes: 5,
        };
        let t = queued(&nobody, LangTag::En);
        assert!(
            t.contains("number 2") && t.contains("Nobody") && t.contains("5 min"),
            "{t}"
        );
        assert!(!t.contains("about"), "no figure without data: {t}");
        let two = WaitNotice {
            agents_online: 2,
            wait_seconds: Some(125),
            ..nobody
        };
        let t = queued(&two, LangTag::En);
        assert!(
            t.contains("2 of our team are online") && t.contains("about 3 min"),
            "{t}"
        );
        assert!(queued(&two, LangTag::Ko).contains("약 3분"));
        assert!(queued(&nobody, LangTag::Ko).contains("알려 드릴 수 없어요"));
        for tag in LangTag::ALL {
            for n in [nobody, two] {
                assert!(!queued(&n, tag).is_empty());
                assert!(!still_waiting(&n, tag).is_empty());
            }
            assert!(escalated(1, tag).contains('1'));
            assert!(still_waiting_closed("9:00", tag).contains("9:00"));
        }
    }
}
