//! `top_unanswered`: the texts the bot could not answer, grouped by meaning with the
//! sentence encoder when the index has one, else by shared words.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Unanswered;

/// Cosine similarity from which two texts mean the same (unit embeddings).
const SAME_MEANING: f32 = 0.72;
/// Word overlap (Jaccard) from which two texts are the same question.
const SAME_WORDS: f32 = 0.5;
/// Example texts shown per group.
pub const EXAMPLES: usize = 3;

/// Gives a unit embedding of a text (the FAQ index's encoder), if it can.
pub type Embed<'a> = &'a dyn Fn(&str) -> Option<Vec<f32>>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub count: u64,
    pub examples: Vec<String>,
}

/// How texts are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupedBy {
    Meaning,
    Words,
}

enum Key {
    Vec(Vec<f32>),
    Words(BTreeSet<String>),
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

fn similar(a: &Key, b: &Key) -> bool {
    match (a, b) {
        (Key::Vec(x), Key::Vec(y)) => {
            x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>() >= SAME_MEANING
        }
        (Key::Words(x), Key::Words(y)) => {
            let union = x.union(y).count();
            union > 0 && x.intersection(y).count() as f32 / union as f32 >= SAME_WORDS
        }
        _ => false,
    }
}

/// Groups `texts` (greedily, each joining the first group whose first text it is
/// like), biggest first, at most `limit` groups. `embed` gives a unit embedding.
pub fn group(
    texts: &[Unanswered],
    embed: Option<Embed<'_>>,
    limit: usize,
) -> (Vec<Group>, GroupedBy) {
    let mut by = GroupedBy::Words;
    let mut groups: Vec<(Key, Group)> = Vec::new();
    for t in texts {
        let key = match embed.and_then(|e| e(&t.text)) {
            Some(v) => {
                by = GroupedBy::Meaning;
                Key::Vec(v)
            }
            None => Key::Words(words(&t.text)),
        };
        match groups.iter_mut().find(|(k, _)| similar(k, &key)) {
            Some((_, g)) => {
                g.count += 1;
                if g.examples.len() < EXAMPLES && !g.examples.contains(&t.text) {
                    g.examples.push(t.text.clone());
                }
            }
            None => groups.push((
                key,
                Group {
                    count: 1,
                    examples: vec![t.text.clone()],
                },
            )),
        }
    }
    let mut out: Vec<Group> = groups.into_iter().map(|(_, g)| g).collect();
    // Stable: equal counts keep the order they were first seen in.
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out.truncate(limit);
    (out, by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn u(t: &str) -> Unanswered {
        Unanswered {
            text: t.into(),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn words_group_the_same_question() {
        let texts = [
            u("do you ship to Canada?"),
            u("Do you ship to canada"),
            u("gift wrapping available?"),
            u("ship to Canada please"),
        ];
        let (g, by) = group(&texts, None, 10);
        assert_eq!(by, GroupedBy::Words);
        assert_eq!(g[0].count, 3);
        assert_eq!(g[0].examples.len(), 3);
        assert_eq!(g[1].count, 1);
    }

    #[test]
    fn embeddings_group_by_meaning() {
        let e = |t: &str| -> Option<Vec<f32>> {
            Some(if t.contains("Canada") || t.contains("캐나다") {
                vec![1.0, 0.0]
            } else {
                vec![0.0, 1.0]
            })
        };
        let texts = [
            u("ship to Canada?"),
            u("캐나다 배송 되나요"),
            u("gift wrap?"),
        ];
        let (g, by) = group(&texts, Some(&e), 10);
        assert_eq!(by, GroupedBy::Meaning);
        assert_eq!((g[0].count, g[1].count), (2, 1));
    }
}
