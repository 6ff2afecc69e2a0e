//! What credits look like in texts: amounts, and the customer's notices.

use handoff_faq::LangTag;

use super::{CreditStatus, Currency};

/// "20,000 KRW": grouped digits and the code; minor units of currencies with
/// decimals are shown with two decimals.
pub fn format_amount(amount: u64, currency: &Currency) -> String {
    let zero_decimal = matches!(currency.as_str(), "KRW" | "JPY" | "VND" | "CLP" | "ISK");
    let (major, minor) = if zero_decimal {
        (amount, None)
    } else {
        (amount / 100, Some(amount % 100))
    };
    let digits = major.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match minor {
        Some(m) => format!("{grouped}.{m:02} {}", currency.as_str()),
        None => format!("{grouped} {}", currency.as_str()),
    }
}

/// What the customer is told, in their language (ko, en, ja, zh; English otherwise).
pub fn customer_text(status: CreditStatus, amount: &str, tag: LangTag) -> String {
    use CreditStatus::*;
    match (tag, status) {
        (LangTag::Ko, Granted) | (LangTag::Ko, Approved) => {
            format!("불편을 드려 죄송합니다. {amount} 보상(적립금)이 지급되었어요.")
        }
        (LangTag::Ko, PendingApproval) => format!(
            "{amount} 보상을 요청했어요. 담당 관리자의 승인 후 결과를 알려 드릴게요."
        ),
        (LangTag::Ko, Declined) => format!(
            "요청드린 {amount} 보상은 승인되지 않았어요. 상담원이 다른 방법을 함께 찾아 드릴게요."
        ),
        (LangTag::Ja, Granted) | (LangTag::Ja, Approved) => {
            format!("ご迷惑をおかけして申し訳ありません。{amount} の補償をお付けしました。")
        }
        (LangTag::Ja, PendingApproval) => {
            format!("{amount} の補償を申請しました。責任者の承認後にお知らせします。")
        }
        (LangTag::Ja, Declined) => format!(
            "申請した {amount} の補償は承認されませんでした。担当者が別の方法をご案内します。"
        ),
        (LangTag::Zh, Granted) | (LangTag::Zh, Approved) => {
            format!("给您带来不便，非常抱歉。已为您发放 {amount} 的补偿。")
        }
        (LangTag::Zh, PendingApproval) => {
            format!("已为您申请 {amount} 的补偿，主管批准后会通知您。")
        }
        (LangTag::Zh, Declined) => {
            format!("申请的 {amount} 补偿未获批准，客服会与您一起寻找其他解决办法。")
        }
        (_, Granted) | (_, Approved) => format!(
            "We're sorry for the trouble. A credit of {amount} has been added for you."
        ),
        (_, PendingApproval) => format!(
            "We've asked for a credit of {amount} for you. We'll let you know as soon as a supervisor approves it."
        ),
        (_, Declined) => format!(
            "The credit of {amount} we asked for was not approved. Your agent will work out another way to help."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_texts() {
        let krw = Currency::parse("KRW").unwrap();
        assert_eq!(format_amount(1_234_567, &krw), "1,234,567 KRW");
        assert_eq!(
            format_amount(1999, &Currency::parse("USD").unwrap()),
            "19.99 USD"
        );
        let ko = customer_text(CreditStatus::Granted, "20,000 KRW", LangTag::Ko);
        assert!(ko.contains("20,000 KRW") && ko.contains("지급"), "{ko}");
        let en = customer_text(CreditStatus::Declined, "20,000 KRW", LangTag::Fr);
        assert!(en.contains("not approved"), "{en}");
    }
}
