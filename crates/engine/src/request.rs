//! Request bytes, built once per scenario step when the plan is made, then written
//! as they are for every request: the hot path never formats anything.

use scenario::{Method, Request, Target};

/// A request ready to write.
#[derive(Debug, Clone)]
pub struct RequestBytes {
    pub bytes: Box<[u8]>,
    /// A HEAD answer has headers only, whatever its Content-Length says.
    pub expects_no_body: bool,
    /// Bytes up to and including the blank line that ends the head, where a user's
    /// cookies are added.
    pub head_len: usize,
}

impl RequestBytes {
    pub fn build(request: &Request, target: &Target) -> RequestBytes {
        let has = |name: &str| {
            request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method.as_str(), request.path);
        if !has("host") {
            let host = if target.host.contains(':') {
                format!("[{}]", target.host)
            } else {
                target.host.clone()
            };
            head.push_str(&format!("Host: {}:{}\r\n", host, target.port));
        }
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let needs_length = !request.body.is_empty()
            || matches!(request.method, Method::Post | Method::Put | Method::Patch);
        if needs_length && !has("content-length") {
            head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
        }
        head.push_str("\r\n");
        let head_len = head.len();
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&request.body);
        RequestBytes {
            bytes: bytes.into_boxed_slice(),
            expects_no_body: request.method == Method::Head,
            head_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "127.0.0.1".into(),
            port: 8000,
            tls: false,
        }
    }

    #[test]
    fn get_has_host_and_no_length() {
        let r = RequestBytes::build(&Request::get("/"), &target());
        assert_eq!(&*r.bytes, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
        assert!(!r.expects_no_body);
    }

    #[test]
    fn post_body_gets_a_length_and_user_headers_win() {
        let req = Request {
            method: Method::Post,
            path: "/api".into(),
            headers: vec![
                ("Host".into(), "example".into()),
                ("X-A".into(), "1".into()),
            ],
            body: b"hello".to_vec(),
        };
        let r = RequestBytes::build(&req, &target());
        assert_eq!(
            std::str::from_utf8(&r.bytes).unwrap(),
            "POST /api HTTP/1.1\r\nHost: example\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello"
        );
    }

    #[test]
    fn ipv6_host_is_bracketed() {
        let t = Target {
            host: "::1".into(),
            port: 80,
            tls: false,
        };
        let r = RequestBytes::build(&Request::get("/"), &t);
        assert!(std::str::from_utf8(&r.bytes)
            .unwrap()
            .contains("Host: [::1]:80\r\n"));
    }
}
