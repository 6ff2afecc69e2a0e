//! The survey's texts, in the customer's language (ja, zh, ko, en; English otherwise).

use handoff_faq::LangTag;

/// The one question after a resolve. On SMS the customer answers with a digit.
pub fn survey_question(tag: LangTag, sms: bool) -> String {
    match (tag, sms) {
        (LangTag::Ko, true) => {
            "상담은 어떠셨나요? 1(별로)부터 5(아주 좋음)까지 숫자 하나로 답해 주세요.".into()
        }
        (LangTag::Ko, false) => {
            "상담은 어떠셨나요? 1(별로)부터 5(아주 좋음)까지 골라 주세요.".into()
        }
        (LangTag::Ja, true) => {
            "対応はいかがでしたか？1（不満）から5（とても満足）の数字1つでお答えください。".into()
        }
        (LangTag::Ja, false) => {
            "対応はいかがでしたか？1（不満）から5（とても満足）でお選びください。".into()
        }
        (LangTag::Zh, true) => {
            "您对本次服务满意吗？请回复一个数字，1（不满意）到 5（非常满意）。".into()
        }
        (LangTag::Zh, false) => {
            "您对本次服务满意吗？请从 1（不满意）到 5（非常满意）中选择。".into()
        }
        (_, true) => "How did we do? Reply with one number from 1 (poor) to 5 (great).".into(),
        (_, false) => "How did we do? Choose from 1 (poor) to 5 (great).".into(),
    }
}

/// The one short thanks for a rating.
pub fn survey_thanks(tag: LangTag) -> String {
    match tag {
        LangTag::Ko => "평가해 주셔서 감사합니다!".into(),
        LangTag::Ja => "ご回答ありがとうございました。".into(),
        LangTag::Zh => "感谢您的评价！".into(),
        _ => "Thank you for your rating!".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_and_english() {
        assert!(survey_question(LangTag::Ko, true).contains("1"));
        assert!(survey_question(LangTag::En, false).starts_with("How did we do?"));
        assert_eq!(survey_thanks(LangTag::Es), "Thank you for your rating!");
    }
}
