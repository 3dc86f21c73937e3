//! Checks of request arguments that come from outside. Each returns the 400/413 the caller sees.

use super::error::CallError;
use super::ids::UserId;
use super::limits::Limits;

/// DTMF: the dialect's characters, by default 0-9, `*`, `#`, A-D and `p` (a pause), as RFC 4733
/// and Voximplant `sendDigits` allow (Voximplant itself only `0-9 * # p`).
pub(crate) fn dtmf(digits: &str, limits: &Limits) -> Result<(), CallError> {
    if digits.is_empty() {
        return Err(CallError::bad("digits", "must not be empty"));
    }
    if digits.len() > limits.dtmf_digits_max {
        return Err(CallError::TooLarge {
            field: "digits",
            len: digits.len(),
            max: limits.dtmf_digits_max,
        });
    }
    let allowed = &limits.policy.dtmf_characters;
    match digits.chars().find(|c| !allowed.contains(*c)) {
        Some(c) => Err(CallError::bad(
            "digits",
            format!("{c:?} is not a DTMF digit ({})", dtmf_set(allowed)),
        )),
        None => Ok(()),
    }
}

/// A DTMF character set as messages show it: `0123456789*#ABCDp` → `0-9 * # A-D p`.
fn dtmf_set(allowed: &str) -> String {
    let mut parts = Vec::new();
    if ('0'..='9').all(|c| allowed.contains(c)) {
        parts.push("0-9".to_owned());
    }
    for c in allowed.chars() {
        match c {
            '0'..='9' if parts.first().is_some_and(|p| p == "0-9") => {}
            'A'..='D' if ('A'..='D').all(|c| allowed.contains(c)) => {
                if c == 'A' {
                    parts.push("A-D".to_owned());
                }
            }
            c => parts.push(c.to_string()),
        }
    }
    parts.join(" ")
}

/// A decline code: any SIP final failure code, 3xx–6xx (Voximplant `reject(code)`), or in a
/// dialect without that rule any code 1xx–6xx.
pub(crate) fn decline_code(code: Option<u16>, limits: &Limits) -> Result<u16, CallError> {
    let code = code.unwrap_or(603);
    let min = limits.policy.decline_code_min();
    if (min..=699).contains(&code) {
        Ok(code)
    } else {
        Err(CallError::bad(
            "code",
            format!("{code} is not a SIP code in {min}-699"),
        ))
    }
}

/// Custom headers: names start with `X-` (Voximplant), bounded in count and size.
pub(crate) fn headers(headers: &[(String, String)], limits: &Limits) -> Result<(), CallError> {
    if headers.len() > limits.headers_max {
        return Err(CallError::TooLarge {
            field: "headers",
            len: headers.len(),
            max: limits.headers_max,
        });
    }
    for (name, value) in headers {
        let prefixed = name.len() > 2 && name.as_bytes()[..2].eq_ignore_ascii_case(b"x-");
        if !prefixed && limits.policy.header_x_prefix_required {
            return Err(CallError::bad(
                "headers",
                format!("header name {name:?} must start with X-"),
            ));
        }
        if name.len() + value.len() > limits.header_bytes_max {
            return Err(CallError::TooLarge {
                field: "headers",
                len: name.len() + value.len(),
                max: limits.header_bytes_max,
            });
        }
    }
    Ok(())
}

pub(crate) fn size(field: &'static str, text: &str, max: usize) -> Result<(), CallError> {
    if text.len() > max {
        Err(CallError::TooLarge {
            field,
            len: text.len(),
            max,
        })
    } else {
        Ok(())
    }
}

/// A MIME type: `type/subtype`, bounded.
pub(crate) fn mime(mime: &str, limits: &Limits) -> Result<(), CallError> {
    size("mime", mime, limits.mime_bytes_max)?;
    let mut parts = mime.splitn(2, '/');
    let (t, s) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if t.is_empty() || s.is_empty() || mime.chars().any(char::is_whitespace) {
        return Err(CallError::bad(
            "mime",
            format!("{mime:?} is not a MIME type"),
        ));
    }
    Ok(())
}

/// A list of users to invite: not empty, no repeats, not the inviter.
pub(crate) fn invitees(users: &[UserId], me: &UserId) -> Result<(), CallError> {
    if users.is_empty() {
        return Err(CallError::bad("invitees", "must name at least one user"));
    }
    for (i, u) in users.iter().enumerate() {
        if u == me {
            return Err(CallError::bad("invitees", "a user cannot call themselves"));
        }
        if users[..i].contains(u) {
            return Err(CallError::bad("invitees", format!("{u} is listed twice")));
        }
    }
    Ok(())
}
