//! handoff-dynamodb
