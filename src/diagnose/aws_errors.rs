//! A failed AWS call is not always about the credentials. Before a step classifies an error as
//! a credential problem, it asks here whether AWS answered usably at all: no answer (network,
//! timeout, retries included), AWS throttling or failing (429, 5xx), or an answer that cannot be
//! read (truncated, malformed). Each of those leaves the step incomplete (exit 3), never a
//! verdict on the key.

use crate::aws_setup::Clients;
use crate::codes::Code;
use crate::report::{Finding, Fix, Severity};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// No answer: connection refused, DNS, a timeout.
    NoAnswer { timed_out: bool, detail: String },
    /// AWS answered, but with throttling or a server error.
    Unavailable(String),
    /// AWS answered something that cannot be read.
    Unreadable(String),
}

/// Error codes AWS uses for throttling, across services.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "LimitExceededException",
];

/// The trouble behind an SDK error, if it is not an answer about the request itself.
pub fn trouble<E>(err: &SdkError<E, HttpResponse>) -> Option<Trouble>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) => Some(Trouble::NoAnswer {
            timed_out: true,
            detail: crate::exit::error_chain(err),
        }),
        SdkError::DispatchFailure(d) => Some(Trouble::NoAnswer {
            timed_out: d.is_timeout(),
            detail: crate::exit::error_chain(err),
        }),
        SdkError::ResponseError(_) => Some(Trouble::Unreadable(crate::exit::error_chain(err))),
        // A success whose body did not decode comes back as an unmodelled service error.
        SdkError::ServiceError(s) if s.raw().status().is_success() => {
            Some(Trouble::Unreadable(format!(
                "HTTP {} with a body that is not what AWS sends",
                s.raw().status().as_u16()
            )))
        }
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let code = s.err().code().unwrap_or_default();
            let message = s.err().message().unwrap_or_default();
            if status == 429 || status >= 500 || THROTTLING.contains(&code) {
                let code = if code.is_empty() { "(no code)" } else { code };
                Some(Trouble::Unavailable(format!(
                    "{code}: {message} (HTTP {status})"
                )))
            } else if code.is_empty() && status >= 400 {
                // An error without a code AWS would send: the body did not parse.
                Some(Trouble::Unreadable(format!(
                    "HTTP {status} with an error body that could not be read"
                )))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The finding for trouble with `service` ("STS", "IAM", "SES in eu-west-1"). `timeout` is the
/// bound each call had, retries included.
pub fn finding(trouble: &Trouble, service: &str, timeout: Option<Duration>) -> Finding {
    finding_at(trouble, service, timeout, None)
}

/// [`finding`], naming in the title the endpoint the calls went to.
fn finding_at(
    trouble: &Trouble,
    service: &str,
    timeout: Option<Duration>,
    endpoint: Option<&str>,
) -> Finding {
    let at = endpoint.map(|u| format!(" at {u}")).unwrap_or_default();
    match trouble {
        Trouble::NoAnswer { timed_out, detail } => {
            let what = match (timed_out, timeout) {
                (true, Some(t)) => format!("no answer within {} s (retries included)", t.as_secs()),
                _ => detail.clone(),
            };
            Finding::new(
                Code::EndpointUnreachable,
                Severity::Error,
                format!("AWS {service} did not answer{at}, so this check could not finish"),
            )
            .explain(
                "Nothing is known about the credentials from this: the request got no answer. \
                 Check the network, a proxy (HTTPS_PROXY), or --endpoint-url / AWS_ENDPOINT_URL \
                 if one is set, then run again (a larger --timeout helps on a slow link).",
            )
            .evidence("service", service)
            .evidence("error", what)
        }
        Trouble::Unavailable(said) => Finding::new(
            Code::AwsUnavailable,
            Severity::Error,
            format!(
                "AWS {service} is throttling or failing requests{at}, so this check could not finish"
            ),
        )
        .explain(
            "AWS answered with throttling or a server error even after the SDK's retry. This says \
             nothing about the credentials. Run again in a few minutes; if it lasts, look at the \
             AWS Health Dashboard, and at other programs calling AWS with the same account.",
        )
        .evidence("service", service)
        .evidence("AWS said", said.as_str())
        .fix(Fix::manual("Run ses-doctor again in a few minutes")),
        Trouble::Unreadable(detail) => Finding::new(
            Code::AwsCallFailed,
            Severity::Error,
            format!("AWS {service}'s answer{at} could not be read, so this check could not finish"),
        )
        .explain(
            "The answer was cut off or is not what AWS sends (a proxy or a captive portal in \
             between can do this). Nothing is concluded from it. Run again; check a proxy or \
             --endpoint-url if one is set.",
        )
        .evidence("service", service)
        .evidence(
            "AWS said",
            format!("the answer could not be read: {detail}"),
        ),
    }
}

/// [`finding`] for a call made with `clients`: with the bound of the call, and the endpoint when
/// one was set (a wrong `--endpoint-url` is the usual reason for no answer).
pub fn finding_for(trouble: &Trouble, service: &str, clients: &dyn Clients) -> Finding {
    match clients.endpoint() {
        // The endpoint is in the title: it is the first thing to check, and evidence is shown
        // only with -v.
        Some(url) => {
            finding_at(trouble, service, clients.timeout(), Some(&url)).evidence("endpoint", url)
        }
        None => finding(trouble, service, clients.timeout()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_say_what_happened() {
        let f = finding(
            &Trouble::NoAnswer {
                timed_out: true,
                detail: "timeout".into(),
            },
            "IAM",
            Some(Duration::from_secs(3)),
        );
        assert_eq!(f.code, Code::EndpointUnreachable);
        assert!(format!("{:?}", f.evidence).contains("no answer within 3 s"));
        let f = finding(
            &Trouble::Unavailable("Throttling: Rate exceeded (HTTP 400)".into()),
            "STS",
            None,
        );
        assert_eq!(f.code, Code::AwsUnavailable);
        let f = finding(&Trouble::Unreadable("eof".into()), "STS", None);
        assert_eq!(f.code, Code::AwsCallFailed);
    }
}
