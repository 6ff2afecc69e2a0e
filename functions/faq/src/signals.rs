//! Signals that a message must go to a person: an explicit request for one
//! ([`wants_human`]) or a reason for a high-priority handoff ([`urgency`]).
//!
//! Korean is matched on the text with spaces removed (people often write
//! without spaces and glue particles on: 상담원이랑, 사람좀); English on
//! lowercase words.

use serde::{Deserialize, Serialize};

use crate::text::normalize;

/// Why a handoff should be high priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Anger or exasperation.
    Frustration,
    /// Legal, regulator or chargeback threats.
    Threat,
    /// Charged more than once for the same thing.
    DoubleCharge,
    /// Injury, illness, allergy, foreign objects.
    SafetyOrHealth,
}

/// A message prepared for matching.
struct Msg {
    /// lowercase NFKC, whitespace removed
    compact: String,
    /// lowercase words (letters/digits; apostrophes dropped), space-separated,
    /// with a space at both ends so `" word "` finds whole words
    words: String,
    /// the word list
    list: Vec<String>,
}

impl Msg {
    fn new(text: &str) -> Msg {
        let norm = normalize(text);
        let compact: String = norm.chars().filter(|c| !c.is_whitespace()).collect();
        let mut list = Vec::new();
        let mut cur = String::new();
        for c in norm.chars() {
            if c.is_alphanumeric() {
                cur.push(c);
            } else if (c == '\'' || c == '\u{2019}') && !cur.is_empty() {
                // don't -> dont
            } else if !cur.is_empty() {
                list.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            list.push(cur);
        }
        let words = format!(" {} ", list.join(" "));
        Msg {
            compact,
            words,
            list,
        }
    }

    fn has_any(&self, pats: &[&str]) -> bool {
        pats.iter().any(|p| self.compact.contains(p))
    }

    /// Whole word or phrase (words separated by single spaces).
    fn has_phrase(&self, phrase: &str) -> bool {
        self.words.contains(&format!(" {phrase} "))
    }

    fn has_any_phrase(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has_phrase(p))
    }

    /// A word starting with one of these prefixes.
    fn has_prefix(&self, prefixes: &[&str]) -> bool {
        self.list
            .iter()
            .any(|w| prefixes.iter().any(|p| w.starts_with(p)))
    }
}

// ---- wants_human -----------------------------------------------------------

/// Korean words that name a human agent outright.
const KO_AGENT: &[&str] = &[
    "상담원",
    "상담사",
    "담당자",
    "상담직원",
    "매니저",
    "상담선생",
];
/// Korean words for a person, which need a request around them.
const KO_PERSON: &[&str] = &["사람", "직원", "사장님", "관리자", "실무자"];
/// Asking for, reaching or talking with someone.
const KO_REQUEST: &[&str] = &[
    "연결",
    "바꿔",
    "바꾸",
    "통화",
    "얘기",
    "이야기",
    "대화",
    "말하",
    "말할",
    "말씀",
    "불러",
    "계세요",
    "계신가요",
    "계신가",
    "있나요",
    "있어요",
    "없나요",
    "없어요",
    "좀",
    "나와",
    "해주세요",
    "부탁",
    "원해",
    "원합니다",
    "할래",
    "하고싶",
    "주세요",
    "해줘",
    "상담",
    "응대",
    "직접",
];
/// Phrases that ask for a person on their own.
const KO_DIRECT: &[&str] = &[
    "사람이랑",
    "사람과",
    "사람한테",
    "사람좀",
    "사람이요",
    "사람으로",
    "사람바꿔",
    "사람불러",
    "챗봇말고",
    "봇말고",
    "로봇말고",
    "기계말고",
    "ai말고",
    "자동응답말고",
    "챗봇싫",
    "상담연결",
    "연결해주세요",
    "연결해줘",
    "연결부탁",
    "연결좀",
    "연결요",
    "연결해주실",
    "연결가능",
    "통화하고싶",
    "통화가능할까",
    "전화상담",
    "직접통화",
    "유선상담",
];
/// Questions about opening hours rather than a request to talk now.
const KO_HOURS: &[&str] = &["몇시", "시간", "언제", "운영", "주말", "평일", "공휴일"];

/// English nouns for a human agent, enough on their own.
const EN_AGENT: &[&str] = &[
    "human",
    "humans",
    "representative",
    "representatives",
    "rep",
    "operator",
    "operators",
    "real person",
    "live person",
    "actual person",
    "real human",
    "live agent",
    "human agent",
    "real agent",
    "live support",
    "live representative",
    "a person",
    "an actual human",
];
/// Words that make "agent" something other than a person to talk to.
const EN_AGENT_NOT: &[&str] = &[
    "fee",
    "fees",
    "commission",
    "commissions",
    "code",
    "number",
    "program",
    "programme",
    "cost",
    "price",
    "license",
    "licence",
];
/// Someone to talk to: needs a contact verb. A person...
const EN_PERSON: &[&str] = &[
    "someone",
    "somebody",
    "somone",
    "someome",
    "anyone",
    "anybody",
    "person",
    "people",
    "assistant",
    "assistgant",
    "staff",
    "employee",
    "manager",
    "supervisor",
    "agent",
    "agents",
];
/// ...or a team, which counts only with talking verbs (see `wants_human`).
const EN_TEAM: &[&str] = &[
    "customer service",
    "customer support",
    "customer care",
    "support team",
    "service desk",
];
/// Verbs of talking to or reaching someone.
const EN_CONTACT: &[&str] = &[
    "talk",
    "talking",
    "speak",
    "speaking",
    "chat",
    "chatting",
    "connect",
    "transfer",
    "put me through",
    "get me",
    "give me",
    "reach",
    "want",
    "need",
    "contact",
    "contacting",
    "call me",
    "escalate",
    "hand me",
    "pass me",
    "send me to",
];
/// Whole messages that ask for a person.
const EN_WHOLE: &[&str] = &[
    "agent",
    "agent please",
    "an agent",
    "customer service",
    "customer service please",
    "customer support",
    "support please",
    "help desk",
    "live chat",
    "person",
    "a person please",
    "talk to someone",
    "someone please",
];
/// Informational questions about contact hours or channels.
const EN_HOURS: &[&str] = &[
    "hours",
    "hour",
    "what time",
    "when",
    "open",
    "available",
    "availability",
    "weekend",
    "weekends",
    "email address",
    "phone number",
];

/// True when the message asks, in Korean or English, to talk to a person.
pub fn wants_human(text: &str) -> bool {
    let t = text.trim();
    if t == "0" || t == "0번" {
        return true;
    }
    let m = Msg::new(text);
    if m.compact.is_empty() {
        return false;
    }
    // Korean
    let ko_hours = m.has_any(KO_HOURS);
    if m.has_any(KO_DIRECT) {
        return true;
    }
    if m.has_any(KO_AGENT) && !ko_hours {
        return true;
    }
    if m.has_any(KO_PERSON) && m.has_any(KO_REQUEST) && !ko_hours {
        return true;
    }
    // English
    let trimmed = m.words.trim();
    if EN_WHOLE.contains(&trimmed) {
        return true;
    }
    let en_hours = m.has_any_phrase(EN_HOURS);
    if m.has_any_phrase(EN_AGENT) && !en_hours {
        return true;
    }
    if m.has_phrase("agent") || m.has_phrase("agents") {
        let pos = m.list.iter().position(|w| w == "agent" || w == "agents");
        let next = pos.and_then(|i| m.list.get(i + 1));
        if !next.is_some_and(|n| EN_AGENT_NOT.contains(&n.as_str()))
            && !m.has_any_phrase(&["travel agent", "real estate agent", "shipping agent"])
            && !en_hours
        {
            return true;
        }
    }
    let person = m.has_any_phrase(EN_PERSON);
    if (person || m.has_any_phrase(EN_TEAM)) && m.has_any_phrase(EN_CONTACT) && !en_hours {
        // "customer service" counts only with talking verbs: "contact customer
        // support" is usually a question about channels.
        let only_cs = !person;
        if !only_cs
            || m.has_any_phrase(&[
                "talk",
                "talking",
                "speak",
                "speaking",
                "chat",
                "chatting",
                "connect",
                "transfer",
                "put me through",
                "escalate",
            ])
        {
            return true;
        }
    }
    false
}

// ---- urgency ---------------------------------------------------------------

const KO_SAFETY: &[&str] = &[
    "알레르기",
    "알러지",
    "두드러기",
    "다쳤",
    "다치",
    "부상",
    "화상",
    "데였",
    "베였",
    "피가",
    "피나",
    "병원",
    "응급",
    "아파",
    "아프",
    "배탈",
    "설사",
    "토했",
    "구토",
    "식중독",
    "이물질",
    "유리조각",
    "유리파편",
    "벌레",
    "곰팡이",
    "탈이났",
    "복통",
    "감전",
    "불이났",
    "불났",
    "연기가",
    "폭발",
    "터져서다",
    "임산부인데마시고",
    "숨이",
];
const EN_SAFETY_WORDS: &[&str] = &[
    "allergy",
    "allergies",
    "allergic",
    "anaphylaxis",
    "anaphylactic",
    "injured",
    "injury",
    "injuries",
    "hurt",
    "burned",
    "burns",
    "scalded",
    "scald",
    "hospital",
    "er",
    "vomit",
    "vomited",
    "vomiting",
    "threw up",
    "food poisoning",
    "poisoning",
    "poisoned",
    "bleeding",
    "blood",
    "cut myself",
    "cut my",
    "choke",
    "choked",
    "choking",
    "rash",
    "hives",
    "emergency",
    "electric shock",
    "shocked me",
    "caught fire",
    "on fire",
    "smoke",
    "exploded",
    "explode",
    "foreign object",
    "piece of glass",
    "glass shard",
    "shards",
    "glass in",
    "insect",
    "insects",
    "bug in",
    "bugs in",
    "worm",
    "mold",
    "mould",
    "moldy",
    "mouldy",
    "ill",
    "nausea",
    "nauseous",
    "diarrhea",
    "stomach ache",
    "stomachache",
    "swelling",
    "swollen",
    "burned myself",
    "burnt myself",
    "burned my",
    "burnt my",
    "sick after",
    "got sick",
    "made me sick",
    "feel sick",
    "feeling sick",
    "am sick",
    "was sick",
    "is sick",
    "became sick",
];
const KO_THREAT: &[&str] = &[
    "소비자원",
    "소비자보호",
    "소비자단체",
    "신고",
    "고소",
    "고발",
    "소송",
    "변호사",
    "법적",
    "경찰",
    "공정위",
    "공정거래",
    "민원",
    "차지백",
    "언론",
    "제보",
    "카드사에이의",
    "카드사에민원",
];
const EN_THREAT: &[&str] = &[
    "chargeback",
    "chargebacks",
    "charge back",
    "lawyer",
    "lawyers",
    "attorney",
    "sue",
    "suing",
    "lawsuit",
    "legal action",
    "court",
    "police",
    "report you",
    "reporting you",
    "bbb",
    "better business bureau",
    "dispute the charge",
    "dispute with my bank",
    "consumer protection",
    "small claims",
    "fraud",
    "scam",
    "scammers",
    "trading standards",
    "regulator",
];
const KO_DOUBLE_NUM: &[&str] = &["두번", "2번", "중복", "이중", "두차례", "두건"];
const KO_DOUBLE_PAY: &[&str] = &[
    "결제", "청구", "빠져", "빠졌", "나갔", "출금", "인출", "결재",
];
const EN_DOUBLE_NUM: &[&str] = &[
    "twice",
    "double",
    "doubled",
    "duplicate",
    "duplicated",
    "two times",
    "2 times",
    "two charges",
    "2 charges",
    "charged two",
    "same charge two",
];
const EN_DOUBLE_PAY: &[&str] = &[
    "charg",
    "bill",
    "paid",
    "pay",
    "debit",
    "taken",
    "deduct",
    "withdrawn",
    "transaction",
];
const KO_FRUSTRATION: &[&str] = &[
    "짜증",
    "화나",
    "화가나",
    "화납",
    "열받",
    "빡치",
    "빡쳐",
    "이게뭐야",
    "이게뭐예요",
    "이게뭡니까",
    "장난하",
    "장난해",
    "장난치",
    "어이없",
    "어이가없",
    "황당",
    "최악",
    "실망",
    "답답",
    "미치겠",
    "너무하",
    "뭐하는",
    "사기",
    "환장",
    "씨발",
    "시발",
    "ㅅㅂ",
    "ㅆㅂ",
    "젠장",
    "몇번째",
    "세번째문의",
    "두번째문의",
    "계속문의",
    "답이없",
    "답변이없",
    "연락이없",
    "연락도없",
    "무시하",
    "책임져",
    "뭐하자는",
    "기가막",
    "어처구니",
];
const EN_FRUSTRATION: &[&str] = &[
    "ridiculous",
    "worst",
    "terrible",
    "horrible",
    "awful",
    "unacceptable",
    "useless",
    "pathetic",
    "disgusting",
    "angry",
    "furious",
    "frustrated",
    "frustrating",
    "fed up",
    "sick of",
    "wtf",
    "what the hell",
    "nobody answers",
    "no one answers",
    "nobody is answering",
    "no one is answering",
    "nobody responds",
    "no one responds",
    "no response",
    "still waiting",
    "third time",
    "3rd time",
    "fourth time",
    "so many times",
    "incompetent",
    "outrageous",
    "joke",
    "absurd",
    "infuriating",
    "livid",
    "annoyed",
    "annoying",
    "disappointed",
    "ignoring me",
    "ignored",
];

/// The most serious reason, if any, to hand this message off with high priority.
/// Checked in order: safety/health, threat, double charge, frustration.
pub fn urgency(text: &str) -> Option<Urgency> {
    let m = Msg::new(text);
    if m.compact.is_empty() {
        return None;
    }
    let sick_of = m.has_phrase("sick of") || m.has_phrase("sick and tired");
    if m.has_any(KO_SAFETY) || (m.has_any_phrase(EN_SAFETY_WORDS) && !sick_of) {
        return Some(Urgency::SafetyOrHealth);
    }
    if m.has_any(KO_THREAT) || m.has_any_phrase(EN_THREAT) {
        return Some(Urgency::Threat);
    }
    if (m.has_any(KO_DOUBLE_NUM) && m.has_any(KO_DOUBLE_PAY))
        || (m.has_any_phrase(EN_DOUBLE_NUM) && m.has_prefix(EN_DOUBLE_PAY))
    {
        return Some(Urgency::DoubleCharge);
    }
    if m.has_any(KO_FRUSTRATION)
        || m.has_any_phrase(EN_FRUSTRATION)
        || text.contains("!!!")
        || text.contains("?!?")
    {
        return Some(Urgency::Frustration);
    }
    None
}
