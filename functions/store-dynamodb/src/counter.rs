//! Counting the requests a store sends, by operation: the cost budget of a use case.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Operations that read (billed in read capacity).
const READS: &[&str] = &[
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];
/// Operations that write (billed in write capacity).
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Requests sent, by operation name (`GetItem`, `Query`, `TransactWriteItems`, …).
/// Every attempt counts, retries included: it is what DynamoDB bills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub by_operation: BTreeMap<String, u64>,
    /// Items written by `TransactWriteItems` (each is billed as two writes).
    pub transaction_items: u64,
}

impl RequestCounts {
    pub fn get(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }
    /// Requests of the reading operations.
    pub fn reads(&self) -> u64 {
        READS.iter().map(|op| self.get(op)).sum()
    }
    /// Requests of the writing operations.
    pub fn writes(&self) -> u64 {
        WRITES.iter().map(|op| self.get(op)).sum()
    }
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let by_operation = self
            .by_operation
            .iter()
            .map(|(op, n)| (op.clone(), n - earlier.get(op).min(*n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        RequestCounts {
            by_operation,
            transaction_items: self
                .transaction_items
                .saturating_sub(earlier.transaction_items),
        }
    }
}

impl std::fmt::Display for RequestCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} reads, {} writes (", self.reads(), self.writes())?;
        let mut first = true;
        for (op, n) in &self.by_operation {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{op} {n}")?;
        }
        write!(f, "; {} items in transactions)", self.transaction_items)
    }
}

/// Shared between the store and the interceptor on its client.
#[derive(Debug, Default)]
pub(crate) struct Counter(Mutex<RequestCounts>);

impl Counter {
    fn lock(&self) -> std::sync::MutexGuard<'_, RequestCounts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn snapshot(&self) -> RequestCounts {
        self.lock().clone()
    }
    pub(crate) fn reset(&self) {
        *self.lock() = RequestCounts::default();
    }
    pub(crate) fn add_transaction_items(&self, n: usize) {
        self.lock().transaction_items += n as u64;
    }
    fn count(&self, operation: &str) {
        *self
            .lock()
            .by_operation
            .entry(operation.to_string())
            .or_default() += 1;
    }
}

/// Reads the operation from the `X-Amz-Target` header (`DynamoDB_20120810.GetItem`)
/// of every request just before it is sent.
#[derive(Debug, Clone)]
pub(crate) struct CountRequests(pub(crate) Arc<Counter>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("Unknown");
        let operation = target.rsplit('.').next().unwrap_or(target);
        self.0.count(operation);
        Ok(())
    }
}
