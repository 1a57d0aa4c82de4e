use super::*;
use serde_json::json;

#[test]
fn numbers_become_python_strings() {
    let mut cx = Cx::new("body");
    assert_eq!(string(&mut cx, &json!(1)).unwrap(), "1");
    assert_eq!(string(&mut cx, &json!(2.0)).unwrap(), "2.0");
    assert_eq!(string(&mut cx, &json!(true)).unwrap(), "True");
    assert_eq!(string(&mut cx, &json!(1e20)).unwrap(), "1e+20");
    assert_eq!(string(&mut cx, &json!(0.0001)).unwrap(), "0.0001");
    assert_eq!(string(&mut cx, &json!(0.00001)).unwrap(), "1e-05");
    assert_eq!(string(&mut cx, &json!(1.5)).unwrap(), "1.5");
    assert!(!cx.has_errors());
    assert!(string(&mut cx, &json!([1])).is_none());
    assert_eq!(cx.errors[0].kind, "type_error.str");
}

#[test]
fn fractional_ints_are_truncated_and_junk_rejected() {
    let mut cx = Cx::new("body");
    assert_eq!(integer(&mut cx, &json!(12.7)), Some(12));
    assert_eq!(integer(&mut cx, &json!("42")), Some(42));
    assert_eq!(integer(&mut cx, &json!(-3.9)), Some(-3));
    assert!(!cx.has_errors());
    assert_eq!(integer(&mut cx, &json!("4.5")), None);
    assert_eq!(cx.errors[0].msg, "value is not a valid integer");
}

#[test]
fn paths_normalise_like_pathlib() {
    assert_eq!(normalize_posix_path("./x//y/"), "x/y");
    assert_eq!(normalize_posix_path("/a//b/./c/"), "/a/b/c");
    assert_eq!(normalize_posix_path(""), ".");
    assert_eq!(normalize_posix_path("a/../b"), "a/../b");
    assert_eq!(normalize_posix_path("/"), "/");
}

#[test]
fn datetimes_without_offset_are_utc_and_offsets_convert() {
    let a = parse_datetime("2024-01-02 03:04:05.678901").unwrap();
    assert_eq!(a.to_rfc3339(), "2024-01-02T03:04:05.678901+00:00");
    let b = parse_datetime("2024-01-02T05:04:05+02:00").unwrap();
    assert_eq!(b.to_rfc3339(), "2024-01-02T03:04:05+00:00");
    let c = parse_datetime("2024-1-2T3:04").unwrap();
    assert_eq!(c.to_rfc3339(), "2024-01-02T03:04:00+00:00");
    assert!(parse_datetime("yesterday").is_none());
    assert!(parse_datetime("2024-13-01T00:00").is_none());
    assert_eq!(parse_datetime("0").unwrap().timestamp(), 0);
}

#[test]
fn errors_carry_their_location() {
    let body = json!({"a": {"b": [1, "x"]}});
    let mut cx = Cx::new("body");
    let obj = body.as_object().unwrap();
    let out = cx.required(obj, "a", |cx, v| {
        let inner = object(cx, v)?;
        cx.required(inner, "b", |cx, v| list_of(cx, v, integer))
    });
    assert!(out.is_none());
    let err = cx.finish(out).unwrap_err();
    assert_eq!(
        serde_json::to_value(&err.0).unwrap(),
        json!([{"loc": ["body", "a", "b", 1], "msg": "value is not a valid integer", "type": "type_error.integer"}])
    );
}

#[test]
fn non_finite_floats_are_refused() {
    let mut cx = Cx::new("body");
    assert_eq!(float(&mut cx, &json!("1.5")), Some(1.5));
    for bad in ["NaN", "nan", "inf", "-Infinity"] {
        assert_eq!(float(&mut cx, &json!(bad)), None, "{bad}");
    }
    assert_eq!(cx.errors.len(), 4);
    assert_eq!(cx.errors[0].kind, "value_error.number.not_finite");
}

#[test]
fn datetimes_outside_pythons_years_are_refused() {
    assert!(parse_datetime("9999-12-31T23:59:59").is_some());
    assert!(parse_datetime("0000-01-01T00:00:00").is_none());
    assert!(parse_datetime("9999-12-31T23:59:59-01:00").is_none());
    assert!(parse_datetime("-240000000000000").is_none());
    let mut cx = Cx::new("body");
    assert!(datetime(&mut cx, &json!(1e15)).is_none());
    assert_eq!(cx.errors[0].msg, DATETIME_RANGE_MSG);
}

#[test]
fn relative_paths_may_not_climb_out() {
    assert!(escapes_its_folder("a/../../etc/cron.d"));
    assert!(escapes_its_folder(".."));
    assert!(escapes_its_folder("./../x"));
    assert!(!escapes_its_folder("a/../b"));
    assert!(!escapes_its_folder("a/b/../../c"));
    let mut cx = Cx::new("body");
    assert!(relative_path(&mut cx, &json!("a/../../x"), 256).is_none());
    assert_eq!(cx.errors[0].kind, "value_error.path.escapes");
}

#[test]
fn nul_characters_are_found_with_their_location() {
    assert_eq!(find_nul(&json!({"a": ["x", {"b": "y"}]})), None);
    assert_eq!(
        find_nul(&json!({"a": ["x", {"b": "y\0"}]})),
        Some(vec!["a".into(), 1.into(), "b".into()])
    );
    assert_eq!(find_nul(&json!({"k\0": 1})).unwrap().len(), 1);
}

#[test]
fn booleans_accept_pydantic_spellings() {
    assert_eq!(parse_bool_str("True"), Some(true));
    assert_eq!(parse_bool_str("OFF"), Some(false));
    assert_eq!(parse_bool_str("maybe"), None);
}

mod url {
    use super::*;

    #[test]
    fn urls_need_scheme_and_host() {
        let mut cx = Cx::new("body");
        assert!(any_url(&mut cx, &json!("globus://abc-123")).is_some());
        assert!(any_url(&mut cx, &json!("rsync://user@host:/path")).is_some());
        assert!(!cx.has_errors());
        assert!(any_url(&mut cx, &json!("user@host")).is_none());
        assert_eq!(cx.errors[0].kind, "value_error.url.scheme");
        assert!(any_url(&mut cx, &json!("globus://")).is_none());
        assert_eq!(cx.errors[1].kind, "value_error.url.host");
    }
}
