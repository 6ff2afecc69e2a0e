//! alert-dispatcher
