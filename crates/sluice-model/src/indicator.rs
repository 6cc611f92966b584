use serde::{Deserialize, Serialize};

/// What sort of indicator of compromise a string is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// An IPv4 or IPv6 address literal.
    Ip,
    /// A full URL.
    Url,
    /// A host name.
    Domain,
    /// An e-mail address.
    Email,
    /// A chat or paste endpoint commonly used to receive stolen data
    /// (Discord or Slack webhooks, Telegram bot API, paste sites).
    Webhook,
}

/// An indicator found in a package, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Indicator {
    /// The kind of indicator.
    pub kind: IndicatorKind,
    /// The value, normalised (lower-case host names).
    pub value: String,
    /// File inside the artifact.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}
