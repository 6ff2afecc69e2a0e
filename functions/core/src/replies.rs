//! Every text the product says to customers, in Korean and English; [`intl`]
//! has the system texts in Japanese and Chinese too (English for the others),
//! and the line telling a customer a person can help in their language.

pub mod waits;

use jiff::civil::Weekday;
use jiff::Zoned;

use crate::model::Lang;

/// How to reach a person: appended to every bot answer.
pub fn reach_person(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => "상담원과 이야기하시려면 '상담원' 또는 0을 보내 주세요.",
        Lang::En => "To talk to a person, reply \"agent\" or 0.",
    }
}

pub fn faq_answer(answer: &str, lang: Lang) -> String {
    format!("{answer}\n\n{}", reach_person(lang))
}

/// The one clarifying question. `options` are example questions of the closest FAQs.
pub fn clarify(options: &[String], lang: Lang) -> String {
    let mut out = String::new();
    match lang {
        Lang::Ko if options.is_empty() => out
            .push_str("죄송해요, 질문을 정확히 이해하지 못했어요. 조금 더 자세히 적어 주시겠어요?"),
        Lang::Ko => out.push_str("정확히 이해했는지 확인하고 싶어요. 혹시 이런 내용인가요?"),
        Lang::En if options.is_empty() => {
            out.push_str("Sorry, I didn't quite get that. Could you tell me a bit more?")
        }
        Lang::En => out.push_str("I want to make sure I understand. Did you mean one of these?"),
    }
    for o in options {
        out.push_str("\n• ");
        out.push_str(o);
    }
    out.push_str("\n\n");
    out.push_str(reach_person(lang));
    out
}

fn weekday_ko(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "월",
        Weekday::Tuesday => "화",
        Weekday::Wednesday => "수",
        Weekday::Thursday => "목",
        Weekday::Friday => "금",
        Weekday::Saturday => "토",
        Weekday::Sunday => "일",
    }
}

fn weekday_en(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

/// A local time as customers read it: "11월 30일(월) 오전 9:00" / "Mon Nov 30, 9:00 AM".
pub fn local_time(z: &Zoned, lang: Lang) -> String {
    let (h, m) = (z.hour(), z.minute());
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    match lang {
        Lang::Ko => format!(
            "{}월 {}일({}) {} {}:{:02}",
            z.month(),
            z.day(),
            weekday_ko(z.weekday()),
            if h < 12 { "오전" } else { "오후" },
            h12,
            m
        ),
        Lang::En => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!(
                "{} {} {}, {}:{:02} {}",
                weekday_en(z.weekday()),
                MONTHS[(z.month() - 1) as usize],
                z.day(),
                h12,
                m,
                if h < 12 { "AM" } else { "PM" }
            )
        }
    }
}

/// Agent hours as customers read them: the configured spec, with Korean day names.
pub fn hours(spec: &str, lang: Lang) -> String {
    match lang {
        Lang::En => spec.to_string(),
        Lang::Ko if spec.trim() == "24/7" => "연중무휴 24시간".to_string(),
        Lang::Ko => [
            ("Mon", "월"),
            ("Tue", "화"),
            ("Wed", "수"),
            ("Thu", "목"),
            ("Fri", "금"),
            ("Sat", "토"),
            ("Sun", "일"),
        ]
        .iter()
        .fold(spec.to_string(), |s, (en, ko)| s.replace(en, ko)),
    }
}

/// The handoff notice outside agent hours: when a person will answer, kept by the queue order.
pub fn queued_closed(hours_spec: &str, opens: &str, lang: Lang) -> String {
    let hours_spec = hours(hours_spec, lang);
    match lang {
        Lang::Ko => format!(
            "지금은 상담 시간이 아니에요 (상담 시간: {hours_spec}). 상담원이 {opens}부터 순서대로 답변드릴게요. 대화 내용은 그대로 전달되니 다시 설명하지 않으셔도 돼요."
        ),
        Lang::En => format!(
            "Our team is offline right now (hours: {hours_spec}). A person will reply from {opens}, in the order customers wrote in. They will see this whole conversation, so you won't need to repeat yourself."
        ),
    }
}

pub fn agent_joined(lang: Lang) -> String {
    match lang {
        Lang::Ko => "상담원이 대화에 참여했어요. 잠시만 기다려 주세요.".into(),
        Lang::En => "A person from our team has joined the conversation.".into(),
    }
}

pub fn released(lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("상담원이 대화를 챗봇에게 넘겼어요. {}", reach_person(lang)),
        Lang::En => format!("You're back with our assistant. {}", reach_person(lang)),
    }
}

pub fn resolved(lang: Lang) -> String {
    match lang {
        Lang::Ko => {
            "상담이 종료되었어요. 더 궁금한 점이 있으면 언제든 메시지를 보내 주세요.".into()
        }
        Lang::En => {
            "This conversation is closed. Message us any time if you need anything else.".into()
        }
    }
}

pub fn withdrawn(lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("상담원 연결 요청을 취소했어요. {}", reach_person(lang)),
        Lang::En => format!(
            "Your request for a person is cancelled. {}",
            reach_person(lang)
        ),
    }
}

pub fn sms_follow_up(masked_phone: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("이 페이지를 떠나셔도 상담원 답변을 문자({masked_phone})로 보내 드릴게요. 문자로 답장하셔도 같은 대화로 이어져요."),
        Lang::En => format!("If you leave this page, we'll text the agent's replies to {masked_phone}. You can reply by text and it continues this conversation."),
    }
}

pub fn sms_help(business: &str, hours_spec: &str, lang: Lang) -> String {
    let hours_spec = hours(hours_spec, lang);
    match lang {
        Lang::Ko => format!("{business}: 상담 시간 {hours_spec}. 상담원 연결은 0 또는 '상담원', 수신거부는 STOP을 보내 주세요."),
        Lang::En => format!("{business}: agents {hours_spec}. Reply 0 or AGENT for a person, STOP to opt out."),
    }
}

pub fn sms_stopped(business: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("{business}: 수신거부 처리되었어요. 더 이상 문자를 보내지 않아요. 다시 받으시려면 START를 보내 주세요."),
        Lang::En => format!("{business}: you're unsubscribed and will get no more messages. Reply START to opt back in."),
    }
}

pub fn sms_started(business: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("{business}: 다시 문자를 받으실 수 있어요. 궁금한 점을 보내 주세요."),
        Lang::En => format!("{business}: you're subscribed again. Send us your question any time."),
    }
}

/// System texts in the customer's detected language: Korean and English as
/// above, Japanese and Chinese translated here, English for every other language.
pub mod intl {
    use handoff_faq::LangTag;

    use crate::model::Lang;

    /// How to reach a person, in the customer's language.
    pub fn reach_person(tag: LangTag) -> &'static str {
        match tag {
            LangTag::Ja => "担当者と話したい場合は「担当者」または 0 を送ってください。",
            LangTag::Zh => "如需人工客服，请回复“人工”或 0。",
            other => super::reach_person(other.reply_lang()),
        }
    }

    /// The answer (in the catalog's language) with how to reach a person; when
    /// the customer wrote in a language the catalog lacks, one line in theirs
    /// saying a person can help in it.
    pub fn faq_answer(answer: &str, customer: LangTag, answered_in: Option<LangTag>) -> String {
        let mut out = format!("{answer}\n\n{}", reach_person(customer));
        if answered_in.is_some_and(|a| a != customer) {
            if let Some(line) = person_can_help(customer) {
                out.push('\n');
                out.push_str(line);
            }
        }
        out
    }

    /// "A person can help you in your language", in that language (None for
    /// Korean and English, which every catalog answer and system text covers).
    pub fn person_can_help(tag: LangTag) -> Option<&'static str> {
        Some(match tag {
            LangTag::Ko | LangTag::En => return None,
            LangTag::Ja => "日本語での対応をご希望の場合は、担当者におつなぎします。",
            LangTag::Zh => "如需中文服务，我们可以为您转接人工客服。",
            LangTag::Es => {
                "Si lo prefiere, una persona de nuestro equipo puede atenderle en español."
            }
            LangTag::Vi => "Nếu bạn muốn, nhân viên của chúng tôi có thể hỗ trợ bằng tiếng Việt.",
            LangTag::Fr => {
                "Si vous le souhaitez, une personne de notre équipe peut vous aider en français."
            }
            LangTag::De => {
                "Wenn Sie möchten, hilft Ihnen gern eine Person aus unserem Team auf Deutsch."
            }
            LangTag::Ru => "Если хотите, сотрудник может помочь вам на русском языке.",
            LangTag::Th => "หากต้องการ เจ้าหน้าที่ของเราสามารถช่วยเหลือคุณเป็นภาษาไทยได้",
            LangTag::Id => "Jika Anda mau, petugas kami dapat membantu dalam bahasa Indonesia.",
            LangTag::Pt => "Se preferir, uma pessoa da nossa equipe pode ajudar em português.",
            LangTag::It => "Se preferisce, una persona del nostro team può aiutarla in italiano.",
        })
    }

    /// The one clarifying question.
    pub fn clarify(options: &[String], tag: LangTag) -> String {
        let head = match (tag, options.is_empty()) {
            (LangTag::Ja, true) => "申し訳ありません、ご質問をよく理解できませんでした。もう少し詳しく教えていただけますか？",
            (LangTag::Ja, false) => "念のため確認させてください。次のどれかについてのご質問でしょうか？",
            (LangTag::Zh, true) => "抱歉，我没有完全理解您的问题。能再详细说明一下吗？",
            (LangTag::Zh, false) => "我想确认一下，您是想问以下哪一项？",
            (other, _) => return super::clarify(options, other.reply_lang()),
        };
        let mut out = head.to_string();
        for o in options {
            out.push_str("\n• ");
            out.push_str(o);
        }
        out.push_str("\n\n");
        out.push_str(reach_person(tag));
        out
    }

    /// The handoff notice while agents are working.
    /// The handoff notice outside agent hours.
    pub fn queued_closed(hours_spec: &str, opens: &str, tag: LangTag) -> String {
        match tag {
            LangTag::Ja => format!("現在は営業時間外です（対応時間: {hours_spec}）。{opens} から順番に担当者がご返信します。会話の内容はそのまま引き継がれます。"),
            LangTag::Zh => format!("现在不在人工服务时间（服务时间：{hours_spec}）。客服将从 {opens} 起按顺序回复您，对话内容会完整转交。"),
            other => super::queued_closed(hours_spec, opens, other.reply_lang()),
        }
    }

    pub fn agent_joined(tag: LangTag) -> String {
        match tag {
            LangTag::Ja => "担当者が会話に参加しました。少々お待ちください。".into(),
            LangTag::Zh => "客服已加入对话，请稍候。".into(),
            other => super::agent_joined(other.reply_lang()),
        }
    }

    pub fn released(tag: LangTag) -> String {
        match tag {
            LangTag::Ja => format!(
                "担当者からチャットボットに戻りました。{}",
                reach_person(tag)
            ),
            LangTag::Zh => format!("客服已将对话转回智能助手。{}", reach_person(tag)),
            other => super::released(other.reply_lang()),
        }
    }

    pub fn resolved(tag: LangTag) -> String {
        match tag {
            LangTag::Ja => {
                "この会話は終了しました。ほかにご用があればいつでもメッセージをお送りください。"
                    .into()
            }
            LangTag::Zh => "本次对话已结束。如有其他问题，欢迎随时留言。".into(),
            other => super::resolved(other.reply_lang()),
        }
    }

    pub fn withdrawn(tag: LangTag) -> String {
        match tag {
            LangTag::Ja => format!("担当者へのおつなぎを取り消しました。{}", reach_person(tag)),
            LangTag::Zh => format!("已取消人工客服请求。{}", reach_person(tag)),
            other => super::withdrawn(other.reply_lang()),
        }
    }

    /// The language system texts come out in for `tag` (what the packet can
    /// show next to the detected language).
    pub fn system_text_language(tag: LangTag) -> LangTag {
        match tag {
            LangTag::Ko | LangTag::En | LangTag::Ja | LangTag::Zh => tag,
            _ => LangTag::from(Lang::En),
        }
    }
}

/// The text carrying a phone verification code (never logged).
pub fn phone_code(business: &str, code: &str, lang: Lang) -> String {
    match lang {
        Lang::Ko => format!("[{business}] 인증번호 {code} (10분 안에 입력해 주세요). 요청하지 않으셨다면 무시하세요."),
        Lang::En => format!("[{business}] Your code is {code} (valid 10 minutes). If you did not ask for it, ignore this text."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_read_naturally() {
        let z: Zoned = "2026-11-30T09:00:00[Asia/Seoul]".parse().unwrap();
        assert_eq!(local_time(&z, Lang::Ko), "11월 30일(월) 오전 9:00");
        assert_eq!(local_time(&z, Lang::En), "Mon Nov 30, 9:00 AM");
        let z: Zoned = "2026-11-30T13:05:00[Asia/Seoul]".parse().unwrap();
        assert_eq!(local_time(&z, Lang::En), "Mon Nov 30, 1:05 PM");
    }

    #[test]
    fn every_bot_answer_says_how_to_reach_a_person() {
        assert!(faq_answer("배송비는 3,000원", Lang::Ko).contains("상담원"));
        assert!(faq_answer("Shipping is", Lang::En).contains("agent"));
        assert!(clarify(&[], Lang::En).contains("agent"));
        assert!(clarify(&["How much is shipping?".into()], Lang::En)
            .contains("• How much is shipping?"));
    }

    #[test]
    fn hours_read_in_the_customer_language() {
        assert_eq!(
            hours("Mon-Fri 09:00-18:00, Sat 10:00-14:00", Lang::Ko),
            "월-금 09:00-18:00, 토 10:00-14:00"
        );
        assert_eq!(
            hours("Mon-Fri 09:00-18:00", Lang::En),
            "Mon-Fri 09:00-18:00"
        );
        assert!(queued_closed("Mon-Fri 09:00-18:00", "x", Lang::Ko).contains("월-금"));
    }

    #[test]
    fn system_texts_follow_the_customer_language_with_an_english_fallback() {
        use handoff_faq::LangTag;
        assert!(intl::reach_person(LangTag::Ja).contains("担当者"));
        assert!(intl::reach_person(LangTag::Zh).contains("人工"));
        assert_eq!(intl::reach_person(LangTag::Ko), reach_person(Lang::Ko));
        assert_eq!(intl::reach_person(LangTag::Es), reach_person(Lang::En));
        assert!(intl::clarify(&["a".into()], LangTag::Zh).contains("• a"));
        assert_eq!(intl::system_text_language(LangTag::Vi), LangTag::En);
        for tag in LangTag::ALL {
            let _ = (
                intl::agent_joined(tag),
                intl::released(tag),
                intl::resolved(tag),
            );
            let _ = (
                intl::withdrawn(tag),
                intl::queued_closed("24/7", "9:00", tag),
            );
        }
    }

    #[test]
    fn an_answer_in_another_language_says_a_person_can_help_in_the_customers() {
        use handoff_faq::LangTag;
        let t = intl::faq_answer("Shipping is 3,000 KRW.", LangTag::Es, Some(LangTag::En));
        assert!(t.starts_with("Shipping is 3,000 KRW."), "{t}");
        assert!(t.contains("en español"), "{t}");
        let t = intl::faq_answer("배송비는 3,000원", LangTag::Ko, Some(LangTag::Ko));
        assert!(!t.contains("español") && t.contains("상담원"), "{t}");
        assert_eq!(intl::person_can_help(LangTag::En), None);
        for tag in LangTag::ALL {
            if !matches!(tag, LangTag::Ko | LangTag::En) {
                assert!(intl::person_can_help(tag).is_some(), "{tag:?}");
            }
        }
    }
}
