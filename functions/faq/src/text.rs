//! Text analysis: normalisation, tokenisation, English stemming, Korean
//! particle stripping and Hangul n-grams, and a small bilingual concept table.
//!
//! Every feature is a `(group, hash)` pair; the index maps hashes to ids.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

/// English stemmed word.
pub(crate) const G_WORD: u8 = 0;
/// Pair of adjacent English stems.
pub(crate) const G_BIGRAM: u8 = 1;
/// Character 3..5-grams of English words (typo tolerance).
pub(crate) const G_CHAR: u8 = 2;
/// Hangul character 1..3-grams over the text with spaces removed.
pub(crate) const G_KOGRAM: u8 = 3;
/// Korean word with particles and endings stripped.
pub(crate) const G_KOWORD: u8 = 4;
/// Bilingual concept (synonym class).
pub(crate) const G_CONCEPT: u8 = 5;
/// Unordered pair of English content stems (stopwords dropped) at most
/// [`PAIR_WINDOW`] content words apart.
pub(crate) const G_PAIR: u8 = 6;
pub(crate) const N_GROUPS: usize = 7;
const PAIR_WINDOW: usize = 3;

/// English function words (stemmed forms) left out of word pairs.
const EN_STOP: &[&str] = &[
    "a", "an", "the", "i", "me", "my", "you", "your", "we", "our", "it", "be", "do", "have", "to",
    "of", "in", "on", "for", "at", "by", "with", "from", "and", "or", "but", "so", "that", "this",
    "there", "can", "could", "would", "will", "should", "shall", "may", "might", "must", "pleas",
    "pleas", "hi", "hello", "just", "some", "ani", "if", "what", "how", "whi", "when", "where",
    "which", "who", "is", "are", "am", "was", "as", "get", "about", "thank", "thanks", "need",
    "want", "know", "help", "is", "s", "t", "m",
];

/// Hangul syllables or jamo (including compatibility jamo such as `ㅋ`).
pub(crate) fn is_hangul(c: char) -> bool {
    matches!(c as u32,
        0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

/// NFKC and lowercase, with disguises (invisible characters, look-alikes,
/// spelled-out letters) undone.
pub(crate) fn normalize(text: &str) -> String {
    crate::normalize::deobfuscate(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Latin,
    Digits,
    Hangul,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub text: String,
    pub kind: Kind,
}

/// Splits normalised text into Latin words (letters/digits, apostrophes dropped),
/// digit runs and Hangul runs. Everything else separates.
pub(crate) fn tokenize(norm: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_hangul = false;
    let mut has_letter = false;
    let flush = |cur: &mut String, hangul: bool, letter: bool, out: &mut Vec<Token>| {
        if !cur.is_empty() {
            let kind = if hangul {
                Kind::Hangul
            } else if letter {
                Kind::Latin
            } else {
                Kind::Digits
            };
            out.push(Token {
                text: std::mem::take(cur),
                kind,
            });
        }
    };
    let chars: Vec<char> = norm.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if is_hangul(c) {
            if !cur_hangul {
                flush(&mut cur, cur_hangul, has_letter, &mut out);
                has_letter = false;
            }
            cur_hangul = true;
            cur.push(c);
        } else if c.is_alphanumeric() {
            if cur_hangul {
                flush(&mut cur, cur_hangul, has_letter, &mut out);
                cur_hangul = false;
            }
            if c.is_alphabetic() {
                has_letter = true;
            }
            cur.push(c);
        } else if (c == '\'' || c == '\u{2019}')
            && !cur.is_empty()
            && !cur_hangul
            && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())
        {
            // don't -> dont, what's -> whats
        } else {
            flush(&mut cur, cur_hangul, has_letter, &mut out);
            cur_hangul = false;
            has_letter = false;
        }
    }
    flush(&mut cur, cur_hangul, has_letter, &mut out);
    out
}

/// Korean particles and verb endings, stripped from the end of a word.
const KO_SUFFIXES: &[&str] = &[
    "하고싶어요",
    "고싶어요",
    "싶습니다",
    "싶어요",
    "습니다",
    "합니다",
    "입니다",
    "인가요",
    "인데요",
    "한가요",
    "했어요",
    "됐어요",
    "되나요",
    "될까요",
    "할까요",
    "되어요",
    "드려요",
    "주세요",
    "해주세요",
    "하나요",
    "있나요",
    "없나요",
    "이에요",
    "에서는",
    "으로는",
    "이랑",
    "에서",
    "으로",
    "한테",
    "에게",
    "까지",
    "부터",
    "처럼",
    "보다",
    "돼요",
    "해요",
    "예요",
    "에요",
    "어요",
    "아요",
    "나요",
    "까요",
    "세요",
    "네요",
    "는데",
    "니까",
    "으면",
    "해서",
    "하고",
    "하는",
    "했는데",
    "인데",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "에",
    "로",
    "와",
    "과",
    "랑",
    "도",
    "만",
    "의",
    "께",
    "요",
    "고",
    "죠",
    "서",
    "면",
];

/// Strips up to two particle/ending suffixes, keeping at least one syllable
/// (two when the suffix is a single syllable).
pub(crate) fn strip_korean(word: &str) -> &str {
    let mut w = word;
    for _ in 0..2 {
        let n = w.chars().count();
        let mut best: Option<&str> = None;
        for suf in KO_SUFFIXES {
            if w.ends_with(suf) {
                let sn = suf.chars().count();
                let keep = if sn == 1 { 2 } else { 1 };
                if n >= sn + keep && best.is_none_or(|b| b.len() < suf.len()) {
                    best = Some(suf);
                }
            }
        }
        match best {
            Some(suf) => w = &w[..w.len() - suf.len()],
            None => break,
        }
    }
    w
}

/// British `-ise`/`-yse` verb forms (recognised, organising, analyse) spelt
/// the American way so both stem alike; also a few `-our`/`-re` words.
fn american_spelling(w: &str) -> Option<String> {
    const WORDS: &[(&str, &str)] = &[
        ("colour", "color"),
        ("favour", "favor"),
        ("behaviour", "behavior"),
        ("centre", "center"),
        ("cheque", "check"),
        ("cheques", "checks"),
        ("licence", "license"),
        ("defence", "defense"),
        ("catalogue", "catalog"),
        ("travelling", "traveling"),
        ("travelled", "traveled"),
    ];
    if let Some((_, us)) = WORDS.iter().find(|(uk, _)| *uk == w) {
        return Some((*us).to_string());
    }
    for suf in ["isations", "isation", "ising", "ised", "ises", "ise"] {
        if let Some(stem) = w.strip_suffix(suf) {
            // at least 4 letters before it: "organise", not "rise" or "wise"
            if stem.chars().count() >= 4 {
                return Some(format!("{stem}iz{}", &suf[2..]));
            }
        }
    }
    for suf in ["ysed", "yses", "ysing", "yse"] {
        if let Some(stem) = w.strip_suffix(suf) {
            if stem.chars().count() >= 3 {
                return Some(format!("{stem}yz{}", &suf[2..]));
            }
        }
    }
    None
}

/// Irregular forms and chat spellings mapped before stemming.
const EN_LEMMAS: &[(&str, &str)] = &[
    ("bought", "buy"),
    ("sent", "send"),
    ("got", "get"),
    ("gotten", "get"),
    ("came", "come"),
    ("paid", "pay"),
    ("lost", "lose"),
    ("stolen", "steal"),
    ("stole", "steal"),
    ("broke", "break"),
    ("broken", "break"),
    ("forgot", "forget"),
    ("forgotten", "forget"),
    ("gave", "give"),
    ("given", "give"),
    ("took", "take"),
    ("taken", "take"),
    ("withdrew", "withdraw"),
    ("withdrawn", "withdraw"),
    ("went", "go"),
    ("gone", "go"),
    ("made", "make"),
    ("left", "leave"),
    ("told", "tell"),
    ("said", "say"),
    ("saw", "see"),
    ("seen", "see"),
    ("ran", "run"),
    ("did", "do"),
    ("done", "do"),
    ("does", "do"),
    ("was", "be"),
    ("were", "be"),
    ("is", "be"),
    ("are", "be"),
    ("am", "be"),
    ("been", "be"),
    ("has", "have"),
    ("had", "have"),
    ("shipped", "ship"),
    ("pls", "please"),
    ("plz", "please"),
    ("u", "you"),
    ("ur", "your"),
    ("thx", "thanks"),
    ("pwd", "password"),
    ("pw", "password"),
    ("passcode", "password"),
    ("im", "i"),
    ("cant", "cannot"),
    ("can't", "cannot"),
    ("wont", "will not"),
    ("dont", "do not"),
    ("didnt", "did not"),
    ("doesnt", "does not"),
    ("isnt", "is not"),
    ("wasnt", "was not"),
    ("hasnt", "has not"),
    ("havent", "have not"),
    ("arent", "are not"),
    ("werent", "were not"),
    ("couldnt", "could not"),
    ("wouldnt", "would not"),
    ("shouldnt", "should not"),
    ("hadnt", "had not"),
    ("ive", "i have"),
    ("youre", "you are"),
    ("whats", "what is"),
    ("theres", "there is"),
    ("topup", "top up"),
    ("signin", "sign in"),
    ("login", "log in"),
    ("logon", "log in"),
    ("e-mail", "email"),
    ("cancellation", "cancel"),
    ("cancelled", "cancel"),
    ("canceled", "cancel"),
    ("cancelling", "cancel"),
    ("canceling", "cancel"),
];

/// Bilingual synonym classes. Korean patterns match inside the Hangul text with
/// spaces removed; English entries are words or phrases, stemmed at start-up.
const CONCEPTS: &[(&str, &[&str], &[&str])] = &[
    (
        "deliver",
        &["배송", "택배", "배달", "발송", "출고"],
        &[
            "ship", "shipping", "delivery", "deliver", "postage", "courier", "dispatch", "mail",
        ],
    ),
    (
        "arrive",
        &[
            "도착",
            "받을수",
            "언제와",
            "언제올",
            "언제쯤",
            "오나요",
            "올까요",
        ],
        &["arrive", "arrival", "come", "get here", "receive"],
    ),
    (
        "howlong",
        &["며칠", "얼마나걸", "걸리", "걸려", "소요"],
        &["how long", "how many days", "how much time", "take"],
    ),
    (
        "fee",
        &["비용", "요금", "배송비", "수수료", "무료"],
        &[
            "fee",
            "cost",
            "charge",
            "price",
            "free",
            "commission",
            "pay for",
        ],
    ),
    (
        "track",
        &["조회", "송장", "운송장", "추적", "어디쯤", "배송상태"],
        &[
            "track",
            "tracking",
            "status",
            "where is my",
            "whereabouts",
            "shipped yet",
            "sent yet",
        ],
    ),
    (
        "cancel",
        &["취소", "철회", "해지", "그만", "해약"],
        &["cancel", "call off", "revoke", "unsubscribe", "stop"],
    ),
    ("address", &["주소", "배송지"], &["address"]),
    (
        "change",
        &["변경", "바꾸", "바꿔", "바꿀", "수정", "고치", "고쳐"],
        &[
            "change", "update", "modify", "fix", "switch", "edit", "correct", "amend",
        ],
    ),
    (
        "return",
        &["반품", "교환", "반송"],
        &["return", "exchange", "send back"],
    ),
    (
        "refund",
        &["환불", "돈돌려", "환급"],
        &[
            "refund",
            "money back",
            "reimburse",
            "reimbursement",
            "repay",
        ],
    ),
    (
        "damaged",
        &[
            "파손",
            "깨져",
            "깨졌",
            "찢어",
            "찢겨",
            "터져",
            "터졌",
            "불량",
            "망가",
            "찌그러",
        ],
        &[
            "damage",
            "damaged",
            "break",
            "crush",
            "torn",
            "tear",
            "defective",
            "crack",
            "smash",
            "dent",
            "leak",
        ],
    ),
    (
        "wrong",
        &["잘못", "다른상품", "다른게", "다른거"],
        &[
            "wrong",
            "different",
            "instead",
            "incorrect",
            "mistake",
            "but got",
            "but received",
            "instead of",
        ],
    ),
    (
        "pay",
        &["결제", "지불", "페이", "입금", "카드", "송금"],
        &[
            "pay", "payment", "card", "credit", "debit", "paypal", "transfer",
        ],
    ),
    (
        "receipt",
        &["영수증", "계산서", "증빙"],
        &["receipt", "invoice", "bill"],
    ),
    (
        "fresh",
        &["신선", "유통기한", "소비기한"],
        &["fresh", "freshness", "shelf life", "expire", "expiration"],
    ),
    (
        "keep",
        &["보관", "냉장", "냉동"],
        &[
            "storage",
            "keep",
            "freeze",
            "freezer",
            "fridge",
            "refrigerate",
        ],
    ),
    (
        "subscribe",
        &["구독", "정기배송", "정기결제"],
        &[
            "subscription",
            "subscribe",
            "unsubscribe",
            "recurring",
            "monthly",
        ],
    ),
    (
        "points",
        &["적립", "포인트", "마일리지"],
        &["point", "reward", "loyalty", "mileage"],
    ),
    (
        "coupon",
        &["쿠폰", "할인코드", "프로모션", "할인"],
        &["coupon", "promo", "discount", "voucher", "code"],
    ),
    (
        "password",
        &["비밀번호", "비번", "패스워드", "로그인"],
        &["password", "log in", "sign in", "pin"],
    ),
    (
        "forgot",
        &["잊어", "잊었", "까먹", "기억안", "생각이안"],
        &["forget", "remember", "reset", "recover"],
    ),
    (
        "account",
        &["계정", "회원", "아이디"],
        &["account", "member", "membership", "profile"],
    ),
    (
        "delete",
        &["삭제", "탈퇴", "없애"],
        &["delete", "remove", "terminate", "erase", "close my account"],
    ),
    (
        "hours",
        &[
            "몇시",
            "영업시간",
            "운영시간",
            "시간",
            "오픈",
            "마감",
            "문열",
            "닫",
            "요일",
            "주말",
            "평일",
        ],
        &[
            "hour", "open", "close", "time", "weekend", "sunday", "saturday", "monday", "today",
        ],
    ),
    (
        "shop",
        &["매장", "오프라인", "가게"],
        &["shop", "store", "location"],
    ),
    (
        "where",
        &[
            "위치",
            "어디",
            "주차",
            "찾아가",
            "가는길",
            "가는법",
            "오시는길",
            "어떻게가",
            "역",
        ],
        &[
            "where",
            "location",
            "locate",
            "parking",
            "park",
            "direction",
            "subway",
            "station",
            "nearest",
        ],
    ),
    (
        "support",
        &["고객센터", "상담", "문의", "cs"],
        &[
            "support",
            "customer service",
            "chat",
            "helpdesk",
            "help desk",
        ],
    ),
    (
        "wholesale",
        &["납품", "도매", "대량", "사업자", "b2b"],
        &["wholesale", "bulk", "b2b", "supply", "supplier", "business"],
    ),
    (
        "gift",
        &["선물", "포장", "메시지카드", "카드같이", "편지"],
        &["gift", "wrap", "wrapping", "present", "note", "message"],
    ),
    (
        "abroad",
        &[
            "해외",
            "국제",
            "외국",
            "일본",
            "미국",
            "중국",
            "캐나다",
            "호주",
            "영국",
            "유럽",
        ],
        &[
            "international",
            "internationally",
            "overseas",
            "abroad",
            "country",
            "japan",
            "usa",
            "us",
            "canada",
            "australia",
            "uk",
            "europe",
            "china",
        ],
    ),
    (
        "restock",
        &["재입고", "품절", "입고", "다시들어"],
        &[
            "restock",
            "sold out",
            "in stock",
            "back in stock",
            "out of stock",
            "available again",
        ],
    ),
    (
        "warranty",
        &["보증", "고장", "수리", "a/s", "안돌아", "작동", "as"],
        &[
            "warranty",
            "guarantee",
            "repair",
            "stop work",
            "not work",
            "malfunction",
        ],
    ),
    (
        "policy",
        &["규정", "정책", "규칙"],
        &["policy", "policies", "rule", "rules"],
    ),
    (
        "pause",
        &["쉬고", "쉬어", "쉴", "건너뛰", "일시정지", "멈춰", "미루"],
        &["pause", "skip", "suspend", "postpone"],
    ),
    (
        "order",
        &["주문", "구매", "구입", "샀", "시켰"],
        &["order", "purchase", "buy"],
    ),
    (
        "money",
        &["돈", "금액", "잔액"],
        &["money", "fund", "cash", "balance"],
    ),
    (
        "decline",
        &["거절", "승인안", "실패"],
        &["decline", "reject", "refuse", "fail", "deny"],
    ),
    ("topup", &["충전"], &["top up", "top-up", "reload"]),
    (
        "atm",
        &["atm", "현금인출"],
        &["atm", "cash machine", "cashpoint"],
    ),
    (
        "missing",
        &["분실", "잃어버", "도난", "없어졌"],
        &["lose", "missing", "steal", "misplace"],
    ),
    (
        "pending",
        &["대기", "처리중", "보류"],
        &["pending", "still processing", "not gone through", "hold"],
    ),
    (
        "exchange_rate",
        &["환율"],
        &["exchange rate", "conversion rate", "rate"],
    ),
    (
        "identity",
        &["신분증", "본인인증", "인증"],
        &["identity", "verify", "verification", "id"],
    ),
];

const N_CONCEPTS: usize = CONCEPTS.len();

/// One analysed message.
#[derive(Debug, Default, Clone)]
pub(crate) struct Analysis {
    /// `(group, hash)` per occurrence (duplicates kept: they are term counts).
    pub feats: Vec<(u8, u64)>,
}

/// Stateless after construction; Send + Sync.
pub(crate) struct Analyzer {
    stemmer: Stemmer,
    lemmas: HashMap<&'static str, &'static str>,
    /// stemmed word -> concept ids
    en_words: HashMap<String, Vec<u16>>,
    /// stemmed phrase -> concept id
    en_phrases: Vec<(Vec<String>, u16)>,
    pub(crate) use_concepts: bool,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").finish_non_exhaustive()
    }
}

fn fnv(group: u8, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(group);
    h = h.wrapping_mul(0x0100_0000_01b3);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl Analyzer {
    pub(crate) fn new(use_concepts: bool) -> Analyzer {
        let stemmer = Stemmer::create(Algorithm::English);
        let lemmas: HashMap<_, _> = EN_LEMMAS.iter().copied().collect();
        let mut a = Analyzer {
            stemmer,
            lemmas,
            en_words: HashMap::new(),
            en_phrases: Vec::new(),
            use_concepts,
        };
        for (ci, (_, _, en)) in CONCEPTS.iter().enumerate() {
            for entry in en.iter() {
                let stems = a.english_stems(entry);
                match stems.len() {
                    0 => {}
                    1 => a
                        .en_words
                        .entry(stems[0].clone())
                        .or_default()
                        .push(ci as u16),
                    _ => a.en_phrases.push((stems, ci as u16)),
                }
            }
        }
        for v in a.en_words.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        a
    }

    /// Lemma map + Porter2 stem of one lowercase Latin word (may expand to several).
    fn stem_word(&self, w: &str, out: &mut Vec<String>) {
        let w = w.trim_matches('\'');
        match self.lemmas.get(w) {
            Some(l) => {
                for part in l.split(' ') {
                    out.push(self.stemmer.stem(part).into_owned());
                }
            }
            None => {
                let us = american_spelling(w);
                out.push(self.stemmer.stem(us.as_deref().unwrap_or(w)).into_owned());
            }
        }
    }

    fn english_stems(&self, text: &str) -> Vec<String> {
        let norm = normalize(text);
        let mut out = Vec::new();
        for t in tokenize(&norm) {
            match t.kind {
                Kind::Latin => self.stem_word(&t.text, &mut out),
                Kind::Digits => out.push(t.text),
                Kind::Hangul => {}
            }
        }
        out
    }

    pub(crate) fn analyze(&self, text: &str) -> Analysis {
        let norm = normalize(text);
        let tokens = tokenize(&norm);
        let mut feats = Vec::with_capacity(64);
        let mut stems: Vec<String> = Vec::new();
        let mut joined = String::new();
        let mut concepts = [false; N_CONCEPTS];
        for t in &tokens {
            match t.kind {
                Kind::Latin => {
                    self.stem_word(&t.text, &mut stems);
                    // character n-grams of the surface word
                    let chars: Vec<char> = std::iter::once('<')
                        .chain(t.text.chars())
                        .chain(std::iter::once('>'))
                        .collect();
                    let mut buf = String::new();
                    for n in 3..=5 {
                        if chars.len() < n {
                            break;
                        }
                        for win in chars.windows(n) {
                            buf.clear();
                            buf.extend(win.iter());
                            feats.push((G_CHAR, fnv(G_CHAR, &[&buf])));
                        }
                    }
                }
                Kind::Digits => {
                    if t.text.chars().count() <= 4 {
                        stems.push(t.text.clone());
                    } else {
                        stems.push("#longnum".to_string());
                    }
                }
                Kind::Hangul => {
                    joined.push_str(&t.text);
                    let w = strip_korean(&t.text);
                    feats.push((G_KOWORD, fnv(G_KOWORD, &[w])));
                }
            }
        }
        for (i, s) in stems.iter().enumerate() {
            feats.push((G_WORD, fnv(G_WORD, &[s])));
            if let Some(next) = stems.get(i + 1) {
                feats.push((G_BIGRAM, fnv(G_BIGRAM, &[s, next])));
            }
            if self.use_concepts {
                if let Some(cs) = self.en_words.get(s.as_str()) {
                    for &c in cs {
                        concepts[c as usize] = true;
                    }
                }
            }
        }
        let content: Vec<&str> = stems
            .iter()
            .map(String::as_str)
            .filter(|s| !EN_STOP.contains(s))
            .collect();
        for i in 0..content.len() {
            for j in i + 1..content.len().min(i + 1 + PAIR_WINDOW) {
                let (a, b) = if content[i] <= content[j] {
                    (content[i], content[j])
                } else {
                    (content[j], content[i])
                };
                if a != b {
                    feats.push((G_PAIR, fnv(G_PAIR, &[a, b])));
                }
            }
        }
        if self.use_concepts {
            for (phrase, c) in &self.en_phrases {
                if stems.windows(phrase.len()).any(|w| w == phrase.as_slice()) {
                    concepts[*c as usize] = true;
                }
            }
        }
        if !joined.is_empty() {
            let chars: Vec<char> = joined.chars().collect();
            let mut buf = String::new();
            for n in 1..=3 {
                for win in chars.windows(n) {
                    buf.clear();
                    buf.extend(win.iter());
                    feats.push((G_KOGRAM, fnv(G_KOGRAM, &[&buf])));
                }
            }
            if self.use_concepts {
                let lower_all = norm.replace(' ', "");
                for (ci, (_, ko, _)) in CONCEPTS.iter().enumerate() {
                    if ko
                        .iter()
                        .any(|p| joined.contains(p) || (p.is_ascii() && lower_all.contains(p)))
                    {
                        concepts[ci] = true;
                    }
                }
            }
        }
        for (ci, on) in concepts.iter().enumerate() {
            if *on {
                feats.push((G_CONCEPT, fnv(G_CONCEPT, &[CONCEPTS[ci].0])));
            }
        }
        Analysis { feats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_mixed_text() {
        let toks = tokenize(&normalize("배송비 얼마예요? Don't ship 2개"));
        let texts: Vec<_> = toks.iter().map(|t| (t.text.as_str(), t.kind)).collect();
        assert_eq!(
            texts,
            vec![
                ("배송비", Kind::Hangul),
                ("얼마예요", Kind::Hangul),
                ("dont", Kind::Latin),
                ("ship", Kind::Latin),
                ("2", Kind::Digits),
                ("개", Kind::Hangul),
            ]
        );
    }

    #[test]
    fn strips_korean_particles() {
        for (word, stem) in [
            ("상담원이랑", "상담원"),
            ("배송지를", "배송지"),
            ("환불은", "환불"),
            ("주소", "주소"),
            ("가", "가"),
        ] {
            assert_eq!(strip_korean(word), stem, "{word}");
        }
    }

    #[test]
    fn concepts_bridge_languages() {
        let a = Analyzer::new(true);
        let ko = a.analyze("환불 언제 돼요");
        let en = a.analyze("where is my refund");
        let key = (G_CONCEPT, fnv(G_CONCEPT, &["refund"]));
        assert!(ko.feats.contains(&key));
        assert!(en.feats.contains(&key));
    }
}

#[cfg(test)]
mod spelling_tests {
    use super::*;

    #[test]
    fn british_spellings_stem_like_american_ones() {
        let a = Analyzer::new(false);
        assert_eq!(
            a.english_stems("I don't recognise this payment, organised"),
            a.english_stems("I dont recognize this payment, organized")
        );
        assert_eq!(american_spelling("rise"), None);
        assert_eq!(american_spelling("wise"), None);
        assert_eq!(american_spelling("analysed").as_deref(), Some("analyzed"));
    }

    #[test]
    fn word_pairs_skip_function_words_and_ignore_order() {
        let a = Analyzer::new(false);
        let pairs = |t: &str| {
            let mut v: Vec<u64> = a
                .analyze(t)
                .feats
                .into_iter()
                .filter(|f| f.0 == G_PAIR)
                .map(|f| f.1)
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(pairs("cancel the card"), pairs("card cancel"));
        assert_eq!(pairs("cancel card").len(), 1);
        assert!(pairs("how do i").is_empty());
    }
}
