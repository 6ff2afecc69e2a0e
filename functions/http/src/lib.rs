//! handoff-http
