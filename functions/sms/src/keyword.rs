//! Carrier-standard SMS keywords.

/// A message that is, in its entirety, an SMS control keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmsKeyword {
    /// Opt out: send nothing more to this number until it opts back in.
    Stop,
    /// Opt back in after a stop.
    Start,
    /// Send the help message.
    Help,
}

const KEYWORDS: &[(&str, SmsKeyword)] = &[
    ("STOP", SmsKeyword::Stop),
    ("STOPALL", SmsKeyword::Stop),
    ("UNSUBSCRIBE", SmsKeyword::Stop),
    ("CANCEL", SmsKeyword::Stop),
    ("END", SmsKeyword::Stop),
    ("QUIT", SmsKeyword::Stop),
    ("수신거부", SmsKeyword::Stop),
    ("수신 거부", SmsKeyword::Stop),
    ("START", SmsKeyword::Start),
    ("UNSTOP", SmsKeyword::Start),
    ("HELP", SmsKeyword::Help),
];

/// Punctuation that may surround a keyword ("Stop.", "STOP!!", "'help'", "수신거부!").
fn is_trimmable(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '。' | '、'
                | '！'
                | '？'
                | '．'
                | '，'
                | '…'
                | '¡'
                | '¿'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '「'
                | '」'
                | '～'
                | '·'
        )
}

/// The keyword this whole message is, if any: surrounding whitespace and punctuation
/// are ignored, case is not (ASCII), and anything else in the message means it is not
/// a keyword ("stop sending me coffee ads please" is an ordinary message).
///
/// Stop: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, 수신거부 (also "수신 거부").
/// Start: START, UNSTOP. Help: HELP. Requests for a person ("0", "AGENT", "상담원") are
/// not SMS keywords and are handled elsewhere.
pub fn keyword(text: &str) -> Option<SmsKeyword> {
    let core = text.trim_matches(is_trimmable);
    KEYWORDS
        .iter()
        .find(|(word, _)| core.eq_ignore_ascii_case(word))
        .map(|&(_, kw)| kw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SmsKeyword::{Help, Start, Stop};

    #[test]
    fn keywords() {
        let cases: &[(&str, Option<SmsKeyword>)] = &[
            ("STOP", Some(Stop)),
            ("stop", Some(Stop)),
            ("Stop.", Some(Stop)),
            ("  STOP!!  \n", Some(Stop)),
            ("\"stop\"", Some(Stop)),
            ("StopAll", Some(Stop)),
            ("unsubscribe", Some(Stop)),
            ("Cancel", Some(Stop)),
            ("end", Some(Stop)),
            ("QUIT", Some(Stop)),
            ("수신거부", Some(Stop)),
            (" 수신거부. ", Some(Stop)),
            ("수신 거부！", Some(Stop)),
            ("START", Some(Start)),
            ("start", Some(Start)),
            ("Unstop", Some(Start)),
            ("help", Some(Help)),
            ("HELP?", Some(Help)),
            ("¿help?", Some(Help)),
            // Whole message only.
            ("stop sending me coffee ads please", None),
            ("please stop", None),
            ("STOP ALL", None),
            ("start my order", None),
            ("help me choose a cake", None),
            ("stopped", None),
            ("ends", None),
            ("수신거부 해주세요", None),
            ("S.T.O.P", None),
            // Handled elsewhere, not SMS keywords.
            ("0", None),
            ("AGENT", None),
            ("상담원", None),
            // Nothing there.
            ("", None),
            ("   ", None),
            ("?!", None),
            // Non-ASCII look-alikes are not folded.
            ("ＳＴＯＰ", None),
        ];
        for (text, want) in cases {
            assert_eq!(keyword(text), *want, "{text:?}");
        }
    }
}
