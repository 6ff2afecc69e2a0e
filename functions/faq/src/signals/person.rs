//! Requests for a person: Korean and English in depth (titles, rejections of
//! the bot, the advertised "0"), and the common forms in ja, zh, es, vi, fr,
//! de, ru, th and id.

use super::Msg;

/// Korean words that name a human agent outright.
const KO_AGENT: &[&str] = &["상담원", "상담사", "담당자", "상담직원", "상담선생"];
/// Titles and words for a person, which need a request around them.
const KO_PERSON: &[&str] = &[
    "사람",
    "직원",
    "사장",
    "관리자",
    "실무자",
    "매니저",
    "책임자",
    "점장",
    "기사님",
    "대표님",
    "주인",
];
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
    "전화",
    "뵙",
    "만나",
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
    "사람상담",
    "챗봇말고",
    "봇말고",
    "로봇말고",
    "기계말고",
    "ai말고",
    "자동응답말고",
    "챗봇싫",
    "봇은말이안",
    "상담연결",
    "연결해주세요",
    "연결해줘",
    "연결부탁",
    "연결좀",
    "연결요",
    "연결이요",
    "연결이여",
    "연결해주실",
    "연결가능",
    "통화하고싶",
    "통화가능할까",
    "전화상담",
    "직접통화",
    "유선상담",
    "전화주세요",
    "전화좀주세요",
    "전화부탁",
    "전화해주세요",
    "연락주세요",
    "콜백",
];
/// Questions about opening hours or channels rather than a request to talk now.
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
    "actual human",
    "live agent",
    "human agent",
    "real agent",
    "live support",
    "live representative",
    "a person",
    "human being",
    "not a bot",
    "not a robot",
    "than a bot",
    "no bots",
    "not automated",
    "not an automated",
    "automated reply",
    "stop the bot",
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
/// Someone to talk to: needs a contact verb.
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
    "staff member",
    "employee",
    "manager",
    "supervisor",
    "owner",
    "boss",
    "agent",
    "agents",
    "technician",
    "receptionist",
    "front desk",
];
/// A team: counts only with talking verbs.
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
    "call me back",
    "escalate",
    "hand me",
    "pass me",
    "send me to",
    "have someone",
    "on the phone",
];
const EN_TALK: &[&str] = &[
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
];
/// Whole messages that ask for a person.
const EN_WHOLE: &[&str] = &[
    "agent",
    "agent please",
    "agent pls",
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
    "owner",
    "manager",
    "manager please",
    "owner please",
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

/// Other languages: (language, strong words enough alone, person words, request words).
/// Strong words are unambiguous requests; a person word needs a request word.
type Intl = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);
const INTL: &[Intl] = &[
    (
        "ja",
        &[
            "オペレーター",
            "有人対応",
            "人間と",
            "人と話",
            "担当者につな",
            "担当者に代わ",
            "スタッフと話",
            "ボットではなく",
            "ボットじゃなく",
        ],
        &[
            "担当者",
            "スタッフ",
            "店員",
            "店長",
            "責任者",
            "係の人",
            "人間",
            "オーナー",
        ],
        &[
            "話",
            "つな",
            "繋",
            "代わ",
            "替わ",
            "お願い",
            "呼ん",
            "電話",
            "連絡",
        ],
    ),
    (
        "zh",
        &["人工", "真人", "转接", "接线员", "不要机器人", "不是机器人"],
        &[
            "客服",
            "工作人员",
            "经理",
            "老板",
            "负责人",
            "店长",
            "员工",
            "服务员",
        ],
        &[
            "找", "转", "联系", "说话", "谈", "要", "想", "叫", "请", "电话",
        ],
    ),
    (
        "es",
        &[
            "persona real",
            "un humano",
            "operador",
            "representante",
            "agente",
            "asesor",
            "no un bot",
            "hablar con alguien",
        ],
        &[
            "encargado",
            "gerente",
            "dueño",
            "responsable",
            "empleado",
            "alguien",
            "una persona",
        ],
        &[
            "hablar",
            "comunicar",
            "contactar",
            "llamar",
            "quiero",
            "necesito",
            "pasar",
            "atender",
        ],
    ),
    (
        "vi",
        &[
            "người thật",
            "nhân viên tư vấn",
            "tư vấn viên",
            "gặp người",
            "không phải bot",
            "nói chuyện với người",
        ],
        &["nhân viên", "quản lý", "chủ cửa hàng", "chủ tiệm", "admin"],
        &[
            "gặp",
            "nói chuyện",
            "nối máy",
            "gọi",
            "liên hệ",
            "muốn",
            "cần",
        ],
    ),
    (
        "fr",
        &[
            "un humain",
            "une vraie personne",
            "conseiller",
            "conseillère",
            "opérateur",
            "pas un robot",
            "quelqu'un",
        ],
        &[
            "responsable",
            "gérant",
            "directeur",
            "agent",
            "employé",
            "patron",
            "une personne",
        ],
        &[
            "parler",
            "joindre",
            "contacter",
            "appeler",
            "voudrais",
            "veux",
            "besoin",
            "passer",
        ],
    ),
    (
        "de",
        &[
            "einem menschen",
            "echten menschen",
            "echte person",
            "echten person",
            "mitarbeiter",
            "mitarbeiterin",
            "kundendienst",
            "kein bot",
            "nicht mit einem bot",
        ],
        &[
            "chef",
            "geschäftsführer",
            "inhaber",
            "berater",
            "jemand",
            "jemandem",
        ],
        &[
            "sprechen",
            "reden",
            "verbinden",
            "anrufen",
            "möchte",
            "brauche",
        ],
    ),
    (
        "ru",
        &[
            "оператор*",
            "живой человек",
            "живого человек*",
            "живым человек*",
            "не бот",
            "не робот",
            "с человеком",
        ],
        &[
            "сотрудник*",
            "менеджер*",
            "администратор*",
            "консультант*",
            "руководител*",
            "специалист*",
            "человек*",
        ],
        &[
            "позовите",
            "соедините",
            "поговорить",
            "связаться",
            "переключите",
            "позвоните",
            "хочу поговорить",
        ],
    ),
    (
        "th",
        &["คุยกับคน", "ขอคุยกับ", "พนักงาน", "เจ้าหน้าที่", "แอดมิน", "ไม่ใช่บอท"],
        &["ผู้จัดการ", "เจ้าของร้าน"],
        &["คุย", "ติดต่อ", "โทร", "ขอ"],
    ),
    (
        "id",
        &[
            "orang asli",
            "manusia",
            "petugas",
            "operator",
            "agen",
            "bukan bot",
        ],
        &["admin", "pemilik", "manajer", "staf", "karyawan", "cs"],
        &[
            "bicara",
            "berbicara",
            "ngobrol",
            "hubungi",
            "sambungkan",
            "ingin",
            "mau",
            "minta",
            "tolong",
        ],
    ),
];

/// Example requests for a person in several languages, for matching by meaning.
pub(crate) const EXAMPLES: &[&str] = &[
    "상담원 연결해 주세요",
    "사람이랑 얘기하고 싶어요",
    "사장님 바꿔주세요",
    "봇 말고 사람요",
    "직원분이랑 통화하고 싶어요",
    "I want to talk to a real person",
    "Can I speak with the owner or a manager?",
    "Get me a human, not a bot",
    "Please have someone call me back",
    "担当者と話したいです",
    "我要找人工客服",
    "Quiero hablar con una persona",
    "Tôi muốn gặp nhân viên",
    "Je veux parler à un conseiller",
    "Ich möchte mit einem Mitarbeiter sprechen",
    "Позовите оператора",
    "ขอคุยกับพนักงาน",
    "Saya mau bicara dengan petugas",
];

/// The pattern that makes `m` a request for a person, if any.
pub(crate) fn request(m: &Msg) -> Option<String> {
    if m.compact.is_empty() {
        return None;
    }
    // The advertised shortcut: "0" (also "０", "0️⃣", "0번") alone.
    if m.compact == "0" || m.compact == "0번" {
        return Some("0".into());
    }
    if let Some(p) = korean(m) {
        return Some(p);
    }
    if let Some(p) = english(m) {
        return Some(p);
    }
    // Questions about contact hours are not requests, in any language.
    if m.has_any(EN_HOURS) || m.has_any(KO_HOURS) {
        return None;
    }
    for (lang, strong, person, ask) in INTL {
        if let Some(p) = m.first(strong) {
            return Some(format!("{lang}:{p}"));
        }
        if let (Some(p), Some(a)) = (m.first(person), m.first(ask)) {
            return Some(format!("{lang}:{p}+{a}"));
        }
    }
    None
}

fn korean(m: &Msg) -> Option<String> {
    if let Some(p) = m.first(KO_DIRECT) {
        return Some(p.into());
    }
    let hours = m.has_any(KO_HOURS);
    if hours {
        return None;
    }
    if let Some(p) = m.first(KO_AGENT) {
        return Some(p.into());
    }
    if let (Some(p), Some(r)) = (m.first(KO_PERSON), m.first(KO_REQUEST)) {
        // "사람들이 많이 …" is about people in general, not a request.
        if !(p == "사람" && m.has("사람들")) {
            return Some(format!("{p}+{r}"));
        }
    }
    None
}

fn english(m: &Msg) -> Option<String> {
    let trimmed = m.words.trim();
    if EN_WHOLE.contains(&trimmed) {
        return Some(trimmed.into());
    }
    let hours = m.has_any(EN_HOURS);
    if hours {
        return None;
    }
    if let Some(p) = m.first(EN_AGENT) {
        return Some(p.into());
    }
    if m.has("agent") || m.has("agents") {
        let pos = m.list.iter().position(|w| w == "agent" || w == "agents");
        let next = pos.and_then(|i| m.list.get(i + 1));
        if !next.is_some_and(|n| EN_AGENT_NOT.contains(&n.as_str()))
            && !m.has_any(&["travel agent", "real estate agent", "shipping agent"])
        {
            return Some("agent".into());
        }
    }
    let person = m.first(EN_PERSON);
    let contact = m.first(EN_CONTACT);
    if let (Some(p), Some(c)) = (person, contact) {
        // "how many people does it serve", "do you need a person to sign": a
        // person word needs a verb of reaching someone that is about the
        // customer, so "people" alone does not count.
        if p != "people" {
            return Some(format!("{p}+{c}"));
        }
    }
    // "customer service" counts only with talking verbs: "contact customer
    // support" is usually a question about channels.
    if let (Some(t), Some(v)) = (m.first(EN_TEAM), m.first(EN_TALK)) {
        return Some(format!("{t}+{v}"));
    }
    None
}
