//! Python's renderings the API must reproduce: `str()` of numbers, `repr(float)`, POSIX
//! path normalisation.

pub fn python_number_str(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    python_float_repr(n.as_f64().unwrap_or(f64::NAN))
}

/// Python's `repr(float)`: the shortest round-trip digits, scientific outside 1e-4..1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip mantissa, e.g. "1.5e20" or "-2.5e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Normalises like Python's `PurePosixPath`: collapses slashes, drops `.`, keeps `..`.
pub fn normalize_posix_path(raw: &str) -> String {
    let absolute = raw.starts_with('/');
    // POSIX keeps exactly two leading slashes; pathlib does too.
    let double = raw.starts_with("//") && !raw.starts_with("///");
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let body = parts.join("/");
    match (absolute, double) {
        (true, true) => format!("//{body}"),
        (true, false) => format!("/{body}"),
        (false, _) if body.is_empty() => ".".to_owned(),
        (false, _) => body,
    }
}
