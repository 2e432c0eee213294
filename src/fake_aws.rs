//! A fake AWS for unit tests: real SDK clients whose HTTP goes to a function of the test, each
//! answer after a delay (tokio time, so `start_paused` tests are instant), with every call
//! recorded and the most calls ever in flight at once counted: that number is what shows
//! whether look-ups run concurrently. A call is in flight from its request until its answer is
//! due (or until it is dropped unanswered), on tokio's clock: a call made at the instant another
//! one's answer came does not overlap it, whatever order the two are polled in.

use crate::aws_setup::Clients;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One request, as the answer function sees it.
#[derive(Clone, Debug)]
pub struct Call {
    /// `iam.amazonaws.com`, `sts.us-east-1.amazonaws.com`, `email.eu-west-1.amazonaws.com`.
    pub host: String,
    pub path: String,
    /// The access key the request was signed with.
    pub key_id: String,
    /// Query-protocol services (IAM, STS): the `Action`.
    pub action: String,
    /// Query-protocol parameters, decoded.
    pub params: Vec<(String, String)>,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `ListAttachedGroupPolicies(GroupName=ops)`: the action and its first parameter besides
    /// the version, for call logs.
    pub fn describe(&self) -> String {
        if self.action.is_empty() {
            return format!("{} {}", self.host, self.path);
        }
        match self
            .params
            .iter()
            .find(|(n, _)| n != "Action" && n != "Version")
        {
            Some((n, v)) => format!("{}({n}={v})", self.action),
            None => self.action.clone(),
        }
    }
}

pub enum Answer {
    /// 200 with this body (XML for IAM and STS, JSON for SES).
    Ok(String),
    /// An AWS error of the query protocol: status, code, message.
    QueryError(u16, &'static str, String),
    /// Never answered.
    Hang,
    /// This answer, after this delay instead of the fake's own.
    After(Duration, Box<Answer>),
}

/// The body of a query-protocol success: `<{action}Response><{action}Result>inner...`.
pub fn query_ok(action: &str, inner: &str) -> Answer {
    Answer::Ok(format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    ))
}

type AnswerFn = dyn Fn(&Call) -> Answer + Send + Sync;
/// Every call, with when it was made and when its answer came (`None`: not yet).
type Log = Arc<Mutex<Vec<(Call, Instant, Option<Instant>)>>>;

#[derive(Clone)]
pub struct FakeAws {
    answer: Arc<AnswerFn>,
    delay: Duration,
    key_id: String,
    calls: Log,
}

impl std::fmt::Debug for FakeAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeAws")
    }
}

impl FakeAws {
    /// Every call is answered by `answer` after `delay`.
    pub fn new(delay: Duration, answer: impl Fn(&Call) -> Answer + Send + Sync + 'static) -> Self {
        FakeAws {
            answer: Arc::new(answer),
            delay,
            key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            calls: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The same fake AWS (answers, log), called with another access key: for sending and admin
    /// credentials side by side.
    pub fn with_key(&self, key_id: &str) -> FakeAws {
        FakeAws {
            key_id: key_id.to_owned(),
            ..self.clone()
        }
    }

    /// The most calls that were ever waiting for their answers at the same time.
    pub fn max_in_flight(&self) -> usize {
        // +1 at each request, -1 at each answer; answers first among events of one instant.
        let mut events: Vec<(Instant, i32)> = Vec::new();
        for (_, start, end) in self.calls.lock().unwrap().iter() {
            events.push((*start, 1));
            if let Some(end) = end {
                events.push((*end, -1));
            }
        }
        events.sort();
        let mut now = 0;
        let mut most = 0;
        for (_, change) in events {
            now += change;
            most = most.max(now);
        }
        most as usize
    }

    /// Every call so far, in the order they were made.
    pub fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(call, _, _)| call.describe())
            .collect()
    }

    fn http_client(&self) -> SharedHttpClient {
        let fake = self.clone();
        http_client_fn(move |_, _| SharedHttpConnector::new(fake.clone()))
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            self.key_id.clone(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "fake",
        )
    }
}

/// Ends a call's time in flight: when its answer is due, or when it is dropped unanswered (a
/// timeout, or a look-up no longer needed).
struct InFlight {
    calls: Log,
    index: usize,
    due: Option<Instant>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let end = Instant::now().min(self.due.unwrap_or_else(Instant::now));
        if let Some(call) = self.calls.lock().unwrap().get_mut(self.index) {
            call.2.get_or_insert(end);
        }
    }
}

impl HttpConnector for FakeAws {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let uri: http_uri::Parts = http_uri::parse(request.uri());
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let params = form_decode(&body);
        // `AWS4-HMAC-SHA256 Credential=AKIA.../20240101/us-east-1/sts/aws4_request, ...`
        let key_id = request
            .headers()
            .get("authorization")
            .and_then(|a| a.split_once("Credential=")?.1.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let call = Call {
            host: uri.host,
            path: uri.path,
            key_id,
            action: params
                .iter()
                .find(|(n, _)| n == "Action")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            params,
        };
        let (delay, answer) = match (self.answer)(&call) {
            Answer::After(delay, answer) => (delay, *answer),
            answer => (self.delay, answer),
        };
        let start = Instant::now();
        let index = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((call, start, None));
            calls.len() - 1
        };
        let guard = InFlight {
            calls: self.calls.clone(),
            index,
            due: (!matches!(answer, Answer::Hang)).then(|| start + delay),
        };
        HttpConnectorFuture::new(async move {
            let _guard = guard;
            tokio::time::sleep(delay).await;
            let (status, body, content_type) = match answer {
                Answer::Ok(body) if body.starts_with('{') => (200, body, "application/json"),
                Answer::Ok(body) => (200, body, "text/xml"),
                Answer::QueryError(status, code, message) => (
                    status,
                    format!(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                    ),
                    "text/xml",
                ),
                Answer::Hang => std::future::pending().await,
                Answer::After(..) => unreachable!("unwrapped above"),
            };
            let mut response =
                HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
            response.headers_mut().insert("content-type", content_type);
            Ok(response)
        })
    }
}

impl Clients for FakeAws {
    fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new(region.to_owned()))
                .credentials_provider(self.credentials())
                .http_client(self.http_client())
                .build(),
        )
    }
    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::Config::builder()
                .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                .region(aws_sdk_iam::config::Region::new("us-east-1"))
                .credentials_provider(self.credentials())
                .http_client(self.http_client())
                .build(),
        )
    }
    fn sesv2(&self, region: &str) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::Config::builder()
                .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
                .region(aws_sdk_sesv2::config::Region::new(region.to_owned()))
                .credentials_provider(self.credentials())
                .http_client(self.http_client())
                .build(),
        )
    }
}

/// `a=b&c=d%2Fe` into pairs.
fn form_decode(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(n), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The host and path of a request URI (`https://iam.amazonaws.com/`).
mod http_uri {
    pub struct Parts {
        pub host: String,
        pub path: String,
    }

    pub fn parse(uri: &str) -> Parts {
        let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = path.split('?').next().unwrap_or(path);
        Parts {
            host: host.to_owned(),
            path: path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_decoded() {
        let p = form_decode("Action=GetRole&RoleName=a%2Fb+c&Version=2010-05-08");
        assert_eq!(p[1], ("RoleName".to_owned(), "a/b c".to_owned()));
        assert_eq!(percent_decode("100%"), "100%");
    }
}
