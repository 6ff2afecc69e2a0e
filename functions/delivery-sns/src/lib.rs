//! handoff-sns
