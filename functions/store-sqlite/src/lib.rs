//! handoff-sqlite
