use super::*;
use crate::digest::{self, challenge};

fn password(
    username: &str,
    realm: &str,
    secret: &str,
    algorithms: &[Algorithm],
) -> ClientCredential {
    ClientCredential {
        id: format!("{username}-auth"),
        username: username.into(),
        realm: realm.into(),
        secret: ClientSecret::Password(secret.into()),
        algorithms: algorithms.to_vec(),
    }
}

fn register(extra: &str) -> Request {
    Request::parse(format!(
        "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;rport;branch=z9hG4bKfirst\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKbelow\r\n\
From: <sip:trunk@192.0.2.1>;tag=ft\r\nTo: <sip:trunk@192.0.2.1>\r\n\
Call-ID: reg-1\r\nCSeq: 7 REGISTER\r\nContact: <sip:s@192.0.2.9:5060>\r\n\
Expires: 3600\r\n{extra}Content-Length: 0\r\n\r\n"
    ))
    .unwrap()
}

fn challenged(status: u16, headers: &[(&str, String)]) -> Response {
    let mut text = format!(
        "SIP/2.0 {status} Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKfirst\r\n\
From: <sip:trunk@192.0.2.1>;tag=ft\r\nTo: <sip:trunk@192.0.2.1>;tag=tt\r\n\
Call-ID: reg-1\r\nCSeq: 7 REGISTER\r\n"
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    Response::parse(text).unwrap()
}

fn param<'a>(line: &'a str, name: &str) -> &'a str {
    let h = AuthHeader::parse(line, "Authorization").unwrap();
    let (_, v) = h.params().find(|(n, _)| *n == name).unwrap();
    v
}

/// RFC 2617 §3.5: the worked example (qop offered as `auth,auth-int`;
/// `auth` is chosen, `opaque` echoed).
#[test]
fn rfc2617_3_5_example() {
    let c = AuthHeader::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        "WWW-Authenticate",
    )
    .unwrap();
    let cred = password("Mufasa", "", "Circle Of Life", &[Algorithm::Md5]);
    let line = credentials_value(&c, &cred, "GET", "/dir/index.html", b"", "0a4f113b").unwrap();
    assert_eq!(param(&line, "response"), "6629fae49393a05397450978507c4ef1");
    assert_eq!(param(&line, "qop"), "auth");
    assert_eq!(param(&line, "nc"), "00000001");
    assert_eq!(param(&line, "cnonce"), "0a4f113b");
    assert_eq!(param(&line, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
    assert_eq!(param(&line, "uri"), "/dir/index.html");
}

/// RFC 7616 §3.9.1 (the SHA-256 algorithm of RFC 8760): two challenges in
/// the server's order; SHA-256 is answered when supported, MD5 otherwise.
#[test]
fn rfc7616_3_9_1_sha256_and_md5() {
    let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    let opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    let sha = format!(
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="{nonce}", opaque="{opaque}""#
    );
    let md5 = format!(
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="{nonce}", opaque="{opaque}""#
    );
    let req = register("");
    let resp = challenged(
        401,
        &[("WWW-Authenticate", sha.clone()), ("WWW-Authenticate", md5)],
    );
    let cnonce = || "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ".to_owned();
    let both = password(
        "Mufasa",
        "http-auth@example.org",
        "Circle of Life",
        &[Algorithm::Sha256, Algorithm::Md5],
    );
    let lines = DigestClient::new()
        .authorize_with(std::slice::from_ref(&both), &req, &resp, &cnonce)
        .unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(param(&lines[0].1, "algorithm"), "SHA-256");
    let only_md5 = password("Mufasa", "", "Circle of Life", &[Algorithm::Md5]);
    let lines = DigestClient::new()
        .authorize_with(std::slice::from_ref(&only_md5), &req, &resp, &cnonce)
        .unwrap();
    assert_eq!(param(&lines[0].1, "algorithm"), "MD5");
    // The RFC's own request: GET /dir/index.html.
    let c = AuthHeader::parse(&sha, "WWW-Authenticate").unwrap();
    let line = credentials_value(&c, &both, "GET", "/dir/index.html", b"", &cnonce()).unwrap();
    assert_eq!(
        param(&line, "response"),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    let md5_first = sha.replace("SHA-256", "MD5");
    let c = AuthHeader::parse(&md5_first, "WWW-Authenticate").unwrap();
    let line = credentials_value(&c, &only_md5, "GET", "/dir/index.html", b"", &cnonce()).unwrap();
    assert_eq!(param(&line, "response"), "8ca523f5e9506fed4657c9700eebdbec");
}

/// What the client sends passes Obelus's own server-side check, for a
/// password and for an `md5_cred` HA1, with MD5 and SHA-256.
#[test]
fn answers_pass_the_server_side_verify() {
    let req = register("");
    for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
        let value = challenge(
            "asterisk",
            &digest::new_nonce(),
            algorithm,
            Some(Qop::Auth),
            Some("op"),
            false,
        );
        let resp = challenged(401, &[("WWW-Authenticate", value)]);
        let cred = password("trunk", "", "s3cret", &[Algorithm::Sha256, Algorithm::Md5]);
        let lines = DigestClient::new().authorize(&[cred], &req, &resp).unwrap();
        assert_eq!(lines[0].0, "Authorization");
        let retried = retry(&req, &lines).build().unwrap();
        let creds = retried.headers().authorization().unwrap().unwrap();
        assert_eq!(Algorithm::of(&creds), Some(algorithm));
        assert_eq!(creds.opaque().as_deref(), Some("op"));
        assert_eq!(
            digest::verify_password(&creds, "REGISTER", b"", "s3cret"),
            Ok(true)
        );
        assert_eq!(
            digest::verify_password(&creds, "REGISTER", b"", "wrong"),
            Ok(false)
        );
    }
    let value = challenge("pbx", "n1", Algorithm::Md5, Some(Qop::Auth), None, false);
    let resp = challenged(401, &[("WWW-Authenticate", value)]);
    let ha1 = digest::ha1(Algorithm::Md5, "trunk", "pbx", "s3cret");
    let cred = ClientCredential {
        secret: ClientSecret::Md5Ha1(ha1.to_uppercase()),
        ..password("trunk", "pbx", "", &[])
    };
    let lines = DigestClient::new().authorize(&[cred], &req, &resp).unwrap();
    let retried = retry(&req, &lines).build().unwrap();
    let creds = retried.headers().authorization().unwrap().unwrap();
    assert_eq!(digest::verify_ha1(&creds, "REGISTER", b"", &ha1), Ok(true));
}

/// RFC 2069 style: a challenge without qop gets no cnonce, nc or qop.
#[test]
fn challenge_without_qop() {
    let value = challenge("pbx", "n1", Algorithm::Md5, None, None, false);
    let resp = challenged(401, &[("WWW-Authenticate", value)]);
    let req = register("");
    let lines = DigestClient::new()
        .authorize(&[password("u", "", "p", &[Algorithm::Md5])], &req, &resp)
        .unwrap();
    assert!(!lines[0].1.contains("cnonce") && !lines[0].1.contains("qop"));
    let retried = retry(&req, &lines).build().unwrap();
    let creds = retried.headers().authorization().unwrap().unwrap();
    assert_eq!(
        digest::verify_password(&creds, "REGISTER", b"", "p"),
        Ok(true)
    );
}

/// The retry is a new transaction in the same call: a new branch on the top
/// Via only, the next CSeq, the same Call-ID and From tag.
#[test]
fn retry_is_a_new_transaction_of_the_same_call() {
    let req = register(
        "Authorization: Digest username=\"x\", realm=\"old\", nonce=\"1\", uri=\"sip:a\", response=\"0\"\r\n",
    );
    let lines = vec![("Authorization", "Digest username=\"y\"".to_owned())];
    let r = retry(&req, &lines).build().unwrap();
    let h = r.headers();
    let vias: Vec<_> = h.vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 2);
    assert_ne!(vias[0].branch(), Some("z9hG4bKfirst"));
    assert!(vias[0].branch().unwrap().starts_with("z9hG4bK"));
    assert_eq!(vias[1].branch(), Some("z9hG4bKbelow"));
    assert_eq!(h.cseq().seq, 8);
    assert_eq!(h.call_id(), "reg-1");
    assert_eq!(h.from().unwrap().tag(), Some("ft"));
    let auths: Vec<_> = h.authorizations().map(Result::unwrap).collect();
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].username().as_deref(), Some("y"));
}

/// A second challenge for credentials just sent is a refusal (once per
/// challenge); `stale=true` is answered again with the new nonce, a
/// bounded number of times.
#[test]
fn rejected_and_stale() {
    let cred = [password("trunk", "", "s3cret", &[Algorithm::Md5])];
    let first = register("");
    let c1 = challenge("pbx", "n1", Algorithm::Md5, Some(Qop::Auth), None, false);
    let mut client = DigestClient::new();
    let lines = client
        .authorize(&cred, &first, &challenged(401, &[("WWW-Authenticate", c1)]))
        .unwrap();
    let second = retry(&first, &lines).build().unwrap();
    let again = challenge("pbx", "n2", Algorithm::Md5, Some(Qop::Auth), None, false);
    assert_eq!(
        client.authorize(
            &cred,
            &second,
            &challenged(401, &[("WWW-Authenticate", again)])
        ),
        Err(ClientError::Rejected("pbx".into()))
    );
    let mut sent = second;
    for n in 0..=MAX_STALE {
        let stale = challenge(
            "pbx",
            &format!("s{n}"),
            Algorithm::Md5,
            Some(Qop::Auth),
            None,
            true,
        );
        let result = client.authorize(
            &cred,
            &sent,
            &challenged(401, &[("WWW-Authenticate", stale)]),
        );
        if n == MAX_STALE {
            assert_eq!(result, Err(ClientError::StaleLimit("pbx".into())));
            break;
        }
        let lines = result.unwrap();
        assert_eq!(param(&lines[0].1, "nonce"), format!("s{n}"));
        sent = retry(&sent, &lines).build().unwrap();
    }
}

/// Realms: an exact match wins over an empty realm; a realm nobody has
/// credentials for is an error naming it; a 407 is answered with
/// Proxy-Authorization, kept when the next hop asks with a 401.
#[test]
fn realms_and_proxies() {
    let creds = [
        password("any", "", "p1", &[Algorithm::Md5]),
        password("exact", "pbx", "p2", &[Algorithm::Md5]),
    ];
    assert_eq!(select(&creds, "pbx").unwrap().username, "exact");
    assert_eq!(select(&creds, "other").unwrap().username, "any");
    assert_eq!(select(&creds[1..], "other"), None);
    let req = register("");
    let proxy = challenge("proxy", "pn", Algorithm::Md5, Some(Qop::Auth), None, false);
    let mut client = DigestClient::new();
    let lines = client
        .authorize(
            &creds,
            &req,
            &challenged(407, &[("Proxy-Authenticate", proxy)]),
        )
        .unwrap();
    assert_eq!(lines[0].0, "Proxy-Authorization");
    assert_eq!(param(&lines[0].1, "username"), "any");
    let via_proxy = retry(&req, &lines).build().unwrap();
    let server = challenge("pbx", "sn", Algorithm::Md5, Some(Qop::Auth), None, false);
    let lines = client
        .authorize(
            &creds,
            &via_proxy,
            &challenged(401, &[("WWW-Authenticate", server)]),
        )
        .unwrap();
    let names: Vec<_> = lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["Authorization", "Proxy-Authorization"]);
    assert_eq!(param(&lines[0].1, "username"), "exact");
    let nobody = challenge("x", "n", Algorithm::Md5, None, None, false);
    assert_eq!(
        DigestClient::new().authorize(
            &creds[1..],
            &req,
            &challenged(401, &[("WWW-Authenticate", nobody)])
        ),
        Err(ClientError::NoCredentials("x".into()))
    );
}

/// An algorithm the credentials do not support is not answered; a
/// response without a Digest challenge is an error.
#[test]
fn unsupported_and_missing_challenges() {
    let req = register("");
    let sha_only = challenge("pbx", "n", Algorithm::Sha256, Some(Qop::Auth), None, false);
    let md5 = [password("u", "", "p", &[Algorithm::Md5])];
    assert!(matches!(
        DigestClient::new().authorize(
            &md5,
            &req,
            &challenged(401, &[("WWW-Authenticate", sha_only)])
        ),
        Err(ClientError::Unsupported { .. })
    ));
    assert_eq!(
        DigestClient::new().authorize(&md5, &req, &challenged(401, &[])),
        Err(ClientError::NoChallenge)
    );
    assert_eq!(
        DigestClient::new().authorize(
            &md5,
            &req,
            &challenged(
                403,
                &[("WWW-Authenticate", "Digest realm=\"a\", nonce=\"b\"".into())]
            )
        ),
        Err(ClientError::NoChallenge)
    );
    assert_eq!(
        format!("{:?}", ClientSecret::Password("hunter2".into())),
        "Password(..)"
    );
}

/// A server that challenges every retry for a new realm is answered at
/// most MAX_CHALLENGES times.
#[test]
fn challenges_are_bounded() {
    let cred = [password("u", "", "p", &[Algorithm::Md5])];
    let mut client = DigestClient::new();
    let mut sent = register("");
    for n in 0..=MAX_CHALLENGES {
        let c = challenge(&format!("realm{n}"), "n", Algorithm::Md5, None, None, false);
        let result = client.authorize(&cred, &sent, &challenged(401, &[("WWW-Authenticate", c)]));
        if n == MAX_CHALLENGES {
            assert_eq!(result, Err(ClientError::TooManyChallenges));
            return;
        }
        sent = retry(&sent, &result.unwrap()).build().unwrap();
    }
    unreachable!("the limit was not reached");
}
