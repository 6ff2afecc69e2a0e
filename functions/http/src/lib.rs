//! The HTTP face shared by the chat and agent functions. Handlers take API Gateway
//! HTTP API (payload 2.0) requests and return its responses, so Lambda and the
//! local server run the very same code.

pub mod attachment;
pub mod config;
pub mod cors;
pub mod openapi;
pub mod request;
pub mod response;
pub mod routes;
pub mod telemetry;

pub use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest as Request, ApiGatewayV2httpResponse as Response,
};
pub use config::{Config, ConfigError, Function};
pub use request::*;
pub use response::*;
