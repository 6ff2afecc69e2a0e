//! Credentials: the customer's per-conversation token and the agents' JWTs.
//! Both are HMAC-SHA256 with secrets the deployment provides; compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ids::{AgentId, ConversationId};

type HmacSha256 = Hmac<Sha256>;

/// A secret key, at least 16 bytes. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, &'static str> {
        let bytes = bytes.into();
        if bytes.len() < 16 {
            return Err("secret must be at least 16 bytes");
        }
        Ok(Self(bytes))
    }
    /// The key bytes, for keyed hashes elsewhere in the domain.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Issues and checks the bearer token a customer holds for one conversation.
#[derive(Debug, Clone)]
pub struct ConversationTokens {
    secret: Secret,
}

impl ConversationTokens {
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }
    pub fn issue(&self, id: &ConversationId) -> String {
        let mut mac = self.secret.mac();
        mac.update(b"conversation:");
        mac.update(id.as_str().as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }
    pub fn verify(&self, id: &ConversationId, token: &str) -> bool {
        let expected = self.issue(id);
        expected.as_bytes().ct_eq(token.trim().as_bytes()).into()
    }
    /// The key for hashing phone codes, derived so it differs from the token key.
    pub fn phone_codes(&self) -> crate::verification::PhoneCodes {
        let mut mac = self.secret.mac();
        mac.update(b"phone-codes");
        let key = mac.finalize().into_bytes().to_vec();
        // 32 bytes: always a valid secret.
        crate::verification::PhoneCodes::new(Secret(key))
    }
}

/// The claims the agent API reads: the same in AWS (API Gateway's JWT authorizer
/// passes Cognito's claims) and locally (the `handoff` server checks the JWT itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentClaims {
    pub sub: String,
    #[serde(rename = "cognito:groups", default)]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub iat: i64,
    pub exp: i64,
    #[serde(default)]
    pub iss: String,
    /// "access" as in Cognito access tokens: the tokens meant for calling APIs (an ID
    /// token, "id", only says who signed in).
    #[serde(default)]
    pub token_use: String,
}

pub const SUPERVISORS_GROUP: &str = "supervisors";
pub const AGENTS_GROUP: &str = "agents";
pub const LOCAL_ISSUER: &str = "handoff-local";
/// The only `token_use` the agent API accepts.
pub const ACCESS_TOKEN_USE: &str = "access";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad signature")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token has no valid subject")]
    Subject,
    #[error("token is from another issuer")]
    Issuer,
    #[error("token is not an access token")]
    TokenUse,
}

/// Why claims that passed the signature check are still not an agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentRejected {
    /// Not a usable identity (401): no valid subject, another issuer, not an access token.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A real identity without the `agents` or `supervisors` group (403).
    #[error("the account is in neither the agents nor the supervisors group")]
    NotAnAgent,
}

/// HS256 JWTs for the local agent API.
#[derive(Debug, Clone)]
pub struct AgentTokens {
    secret: Secret,
}

/// An authenticated agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub supervisor: bool,
}

/// The claims as the authorizer passes them on (strings, groups possibly flattened).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimView<'a> {
    pub sub: Option<&'a str>,
    pub groups: Option<&'a str>,
    pub iss: Option<&'a str>,
    pub token_use: Option<&'a str>,
}

impl Agent {
    /// From claims as the identity provider gives them. `groups` may be a JSON list
    /// or API Gateway's flattened form `[agents supervisors]`. Checks no group.
    pub fn from_claims(sub: &str, groups: &str) -> Option<Agent> {
        let id = AgentId::parse(sub).ok()?;
        let supervisor = group_names(groups).any(|g| g == SUPERVISORS_GROUP);
        Some(Agent { id, supervisor })
    }

    /// The agent these claims name, if they are an access token (from `issuer`, when
    /// one is expected) of an account in the `agents` or `supervisors` group.
    pub fn authorize(claims: ClaimView<'_>, issuer: Option<&str>) -> Result<Agent, AgentRejected> {
        if claims.token_use != Some(ACCESS_TOKEN_USE) {
            return Err(AgentRejected::Unauthenticated("not an access token"));
        }
        if let Some(expected) = issuer {
            if claims.iss != Some(expected) {
                return Err(AgentRejected::Unauthenticated("token from another issuer"));
            }
        }
        let groups = claims.groups.unwrap_or("");
        let agent = Agent::from_claims(claims.sub.unwrap_or(""), groups)
            .ok_or(AgentRejected::Unauthenticated("token has no valid subject"))?;
        if !group_names(groups).any(|g| g == AGENTS_GROUP || g == SUPERVISORS_GROUP) {
            return Err(AgentRejected::NotAnAgent);
        }
        Ok(agent)
    }
}

fn group_names(groups: &str) -> impl Iterator<Item = &str> {
    groups
        .trim_matches(|c| c == '[' || c == ']')
        .split([' ', ',', '"'])
        .filter(|g| !g.is_empty())
}

impl AgentTokens {
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }

    pub fn sign(&self, claims: &AgentClaims) -> String {
        let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        // Serializing a struct of strings and numbers cannot fail.
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.secret.mac();
        mac.update(signing_input.as_bytes());
        let sig = B64.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    pub fn issue(&self, agent: &AgentId, supervisor: bool, now: i64, ttl_secs: i64) -> String {
        let mut groups = vec![AGENTS_GROUP.to_string()];
        if supervisor {
            groups.push(SUPERVISORS_GROUP.to_string());
        }
        self.sign(&AgentClaims {
            sub: agent.to_string(),
            groups,
            name: None,
            iat: now,
            exp: now + ttl_secs,
            iss: LOCAL_ISSUER.into(),
            token_use: ACCESS_TOKEN_USE.into(),
        })
    }

    pub fn verify(&self, token: &str, now: i64) -> Result<AgentClaims, JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: serde_json::Value =
            serde_json::from_slice(&B64.decode(h).map_err(|_| JwtError::Malformed)?)
                .map_err(|_| JwtError::Malformed)?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(JwtError::Algorithm);
        }
        let sig = B64.decode(s).map_err(|_| JwtError::Malformed)?;
        let mut mac = self.secret.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::Signature)?;
        let claims: AgentClaims =
            serde_json::from_slice(&B64.decode(p).map_err(|_| JwtError::Malformed)?)
                .map_err(|_| JwtError::Malformed)?;
        if claims.exp <= now {
            return Err(JwtError::Expired);
        }
        if AgentId::parse(&claims.sub).is_err() {
            return Err(JwtError::Subject);
        }
        // Locally this is API Gateway's authorizer: it checks the issuer (and, here,
        // the token use); the function checks the group.
        if claims.iss != LOCAL_ISSUER {
            return Err(JwtError::Issuer);
        }
        if claims.token_use != ACCESS_TOKEN_USE {
            return Err(JwtError::TokenUse);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(b"0123456789abcdef0123".to_vec()).unwrap()
    }

    #[test]
    fn conversation_tokens_bind_to_one_conversation() {
        let t = ConversationTokens::new(secret());
        let a = ConversationId::parse("c_a").unwrap();
        let b = ConversationId::parse("c_b").unwrap();
        let token = t.issue(&a);
        assert!(t.verify(&a, &token));
        assert!(!t.verify(&b, &token));
        assert!(!t.verify(&a, "nope"));
        let other = ConversationTokens::new(Secret::new(b"another-secret-of-16".to_vec()).unwrap());
        assert!(!other.verify(&a, &token));
    }

    #[test]
    fn jwt_round_trip_and_rejections() {
        let t = AgentTokens::new(secret());
        let agent = AgentId::parse("agent-a").unwrap();
        let jwt = t.issue(&agent, true, 1_000, 3_600);
        let claims = t.verify(&jwt, 1_001).unwrap();
        assert_eq!(claims.sub, "agent-a");
        assert_eq!(claims.groups, vec!["agents", "supervisors"]);
        assert_eq!(t.verify(&jwt, 5_000), Err(JwtError::Expired));
        let other = AgentTokens::new(Secret::new(b"another-secret-of-16".to_vec()).unwrap());
        assert_eq!(other.verify(&jwt, 1_001), Err(JwtError::Signature));
        assert_eq!(t.verify("a.b", 1_001), Err(JwtError::Malformed));
        // alg=none is refused.
        let none = format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none"}"#),
            jwt.split('.').nth(1).unwrap()
        );
        assert!(t.verify(&none, 1_001).is_err());
        // A tampered payload fails the signature.
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let forged = B64.encode(
            br#"{"sub":"boss","cognito:groups":["supervisors"],"iat":0,"exp":99999999999}"#,
        );
        parts[1] = &forged;
        assert_eq!(t.verify(&parts.join("."), 1_001), Err(JwtError::Signature));
    }

    #[test]
    fn claims_from_api_gateway_flattened_groups() {
        assert!(
            Agent::from_claims("a1", "[agents supervisors]")
                .unwrap()
                .supervisor
        );
        assert!(
            Agent::from_claims("a1", r#"["agents","supervisors"]"#)
                .unwrap()
                .supervisor
        );
        assert!(!Agent::from_claims("a1", "[agents]").unwrap().supervisor);
        assert!(Agent::from_claims("bad id", "[]").is_none());
    }

    #[test]
    fn an_agent_needs_the_group_the_issuer_and_an_access_token() {
        let ok = ClaimView {
            sub: Some("a1"),
            groups: Some("[agents]"),
            iss: Some("https://idp.example/pool"),
            token_use: Some("access"),
        };
        assert!(Agent::authorize(ok, Some("https://idp.example/pool")).is_ok());
        assert!(Agent::authorize(ok, None).is_ok());
        let sup = ClaimView {
            groups: Some("[supervisors]"),
            ..ok
        };
        assert!(Agent::authorize(sup, None).unwrap().supervisor);
        for groups in [None, Some("[]"), Some("[customers]"), Some("[agentsx]")] {
            let no_group = ClaimView { groups, ..ok };
            assert_eq!(
                Agent::authorize(no_group, None),
                Err(AgentRejected::NotAnAgent)
            );
        }
        let other_issuer = Agent::authorize(ok, Some("https://idp.example/other"));
        assert!(matches!(
            other_issuer,
            Err(AgentRejected::Unauthenticated(_))
        ));
        for token_use in [None, Some("id"), Some("")] {
            let id_token = ClaimView { token_use, ..ok };
            assert!(matches!(
                Agent::authorize(id_token, None),
                Err(AgentRejected::Unauthenticated(_))
            ));
        }
    }

    #[test]
    fn local_jwts_need_the_local_issuer_and_access_use() {
        let t = AgentTokens::new(secret());
        let mut claims = AgentClaims {
            sub: "agent-a".into(),
            groups: vec![AGENTS_GROUP.into()],
            name: None,
            iat: 1_000,
            exp: 5_000,
            iss: "https://elsewhere.example".into(),
            token_use: ACCESS_TOKEN_USE.into(),
        };
        assert_eq!(t.verify(&t.sign(&claims), 1_001), Err(JwtError::Issuer));
        claims.iss = LOCAL_ISSUER.into();
        claims.token_use = "id".into();
        assert_eq!(t.verify(&t.sign(&claims), 1_001), Err(JwtError::TokenUse));
        claims.token_use = ACCESS_TOKEN_USE.into();
        assert!(t.verify(&t.sign(&claims), 1_001).is_ok());
    }
}
