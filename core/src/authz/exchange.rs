//! The wallet's side of an OpenID4VP exchange over the network: the
//! request object scanned as an `openid4vp://` URI (by value or by
//! reference through `request_uri`), and the response posted to the
//! request's `response_uri` (`direct_post`, JSON).

use crate::{
    client::{ClientError, HttpRequest, Transport},
    issuance::percent_decode,
};

use super::AuthorizationResponse;

/// Largest request object fetched.
const MAX_REQUEST: usize = 64 * 1024;

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The signed request object behind what the wallet scanned: a compact JWS
/// as is, `openid4vp://?request=…` by value, or `openid4vp://?request_uri=…`
/// fetched with `transport`. The result still has to pass
/// [`super::parse_request`].
pub fn fetch_request(scanned: &str, transport: &dyn Transport) -> Result<String, ClientError> {
    let scanned = scanned.trim();
    let malformed = || ClientError::Malformed("not an OpenID4VP request".into());
    let Some(query) = scanned
        .strip_prefix("openid4vp://")
        .map(|rest| rest.trim_start_matches('/').trim_start_matches('?'))
    else {
        // A bare request object.
        return if scanned.split('.').count() == 3 && scanned.len() <= MAX_REQUEST {
            Ok(scanned.to_owned())
        } else {
            Err(malformed())
        };
    };
    if let Some(by_value) = param(query, "request") {
        return percent_decode(by_value).ok_or_else(malformed);
    }
    let uri = param(query, "request_uri")
        .and_then(percent_decode)
        .ok_or_else(malformed)?;
    if !uri.starts_with("https://") && !uri.starts_with("http://") {
        return Err(malformed());
    }
    let answer = transport.send(HttpRequest {
        method: "GET".into(),
        url: uri,
        headers: vec![("Accept".into(), "application/oauth-authz-req+jwt".into())],
        body: Vec::new(),
    })?;
    if answer.status != 200 {
        return Err(ClientError::Server {
            status: answer.status,
            code: "request_unavailable".into(),
            detail: "the request could not be fetched (expired or already answered?)".into(),
        });
    }
    if answer.body.len() > MAX_REQUEST {
        return Err(ClientError::Malformed("request object too large".into()));
    }
    String::from_utf8(answer.body)
        .map(|s| s.trim().to_owned())
        .map_err(|_| malformed())
}

/// Posts the wallet's response to `response_uri` (`direct_post`, JSON).
pub fn post_response(
    response_uri: &str,
    response: &AuthorizationResponse,
    transport: &dyn Transport,
) -> Result<(), ClientError> {
    let answer = transport.send(HttpRequest {
        method: "POST".into(),
        url: response_uri.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(response).unwrap_or_default(),
    })?;
    if answer.status >= 300 {
        return Err(ClientError::Server {
            status: answer.status,
            code: "response_refused".into(),
            detail: "the relying party did not accept the response".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::client::HttpResponse;

    struct Canned(Mutex<Vec<HttpRequest>>, u16, Vec<u8>);

    impl Transport for Canned {
        fn send(&self, r: HttpRequest) -> Result<HttpResponse, ClientError> {
            self.0.lock().unwrap().push(r);
            Ok(HttpResponse {
                status: self.1,
                headers: vec![],
                body: self.2.clone(),
            })
        }
    }

    #[test]
    fn requests_by_value_by_reference_and_bare() {
        let t = Canned(Mutex::new(vec![]), 200, b"a.b.c\n".to_vec());
        assert_eq!(fetch_request("x.y.z", &t).unwrap(), "x.y.z");
        assert_eq!(
            fetch_request("openid4vp://?client_id=c&request=x.y.z", &t).unwrap(),
            "x.y.z"
        );
        let uri = "openid4vp://?client_id=https%3A%2F%2Fbank&request_uri=https%3A%2F%2Fs%2Fr%2F1";
        assert_eq!(fetch_request(uri, &t).unwrap(), "a.b.c");
        assert_eq!(t.0.lock().unwrap()[0].url, "https://s/r/1");
        for bad in [
            "",
            "hello",
            "openid4vp://?client_id=c",
            "openid4vp://?request_uri=ftp%3A%2F%2Fx",
            "openid4vp://?request_uri=%zz",
        ] {
            assert!(fetch_request(bad, &t).is_err(), "{bad}");
        }
        let gone = Canned(Mutex::new(vec![]), 404, vec![]);
        assert!(matches!(
            fetch_request(uri, &gone),
            Err(ClientError::Server { status: 404, .. })
        ));
        let huge = Canned(Mutex::new(vec![]), 200, vec![b'a'; MAX_REQUEST + 1]);
        assert!(fetch_request(uri, &huge).is_err());
    }

    #[test]
    fn responses_are_posted_as_json() {
        let t = Canned(Mutex::new(vec![]), 200, vec![]);
        let response = AuthorizationResponse {
            vp_token: Default::default(),
            satchel_authorization: "a.b.c".into(),
            satchel_delegations: Default::default(),
            state: Some("s".into()),
        };
        post_response("https://rp/r", &response, &t).unwrap();
        let sent = &t.0.lock().unwrap()[0];
        assert_eq!(sent.method, "POST");
        assert!(String::from_utf8_lossy(&sent.body).contains("\"state\":\"s\""));
        let refused = Canned(Mutex::new(vec![]), 409, vec![]);
        assert!(post_response("https://rp/r", &response, &refused).is_err());
    }
}
