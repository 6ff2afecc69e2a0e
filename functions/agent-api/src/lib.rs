//! agent-api
