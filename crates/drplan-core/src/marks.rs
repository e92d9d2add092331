//! Ownership marks: how drplan recognises the objects it manages without a state file.
//!
//! AWS objects carry two tags; Kubernetes objects carry labels; Route53 records, which
//! take no tags, get an ownership TXT record beside them (the external-dns pattern).

/// AWS tag / Kubernetes label holding the stack name.
pub const STACK_KEY: &str = "drplan:stack";
/// AWS tag holding the resource address.
pub const ADDRESS_KEY: &str = "drplan:address";

/// Kubernetes labels (label keys cannot contain ':'; values cannot contain most
/// punctuation, so the address goes into an annotation as well).
pub const K8S_MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "drplan");
pub const K8S_STACK_LABEL: &str = "drplan.io/stack";
pub const K8S_ADDRESS_ANNOTATION: &str = "drplan.io/address";

/// Prefix of the ownership TXT record for a Route53 record name: the marks of the
/// record sets named `api.example.com.` live in TXT `_drplan.api.example.com.`.
pub const DNS_OWNER_PREFIX: &str = "_drplan.";

/// One value of an ownership TXT record (one per owned record set), e.g.
/// `"drplan stack=lanka address=dns.api.target.primary type=CNAME set=primary"`.
pub fn dns_owner_value(
    stack: &str,
    address: &str,
    record_type: &str,
    set_identifier: Option<&str>,
) -> String {
    format!(
        "\"drplan stack={stack} address={address} type={record_type} set={}\"",
        set_identifier.unwrap_or("")
    )
}

/// Parses a value written by [`dns_owner_value`]: (stack, address, type, set id).
pub fn parse_dns_owner_value(value: &str) -> Option<(String, String, String, Option<String>)> {
    let inner = value.trim().trim_matches('"');
    let rest = inner.strip_prefix("drplan ")?;
    let mut stack = None;
    let mut address = None;
    let mut rtype = None;
    let mut set = None;
    for part in rest.split_whitespace() {
        let (k, v) = part.split_once('=')?;
        match k {
            "stack" => stack = Some(v.to_string()),
            "address" => address = Some(v.to_string()),
            "type" => rtype = Some(v.to_string()),
            "set" => set = Some(v.to_string()).filter(|s| !s.is_empty()),
            _ => {}
        }
    }
    Some((stack?, address?, rtype?, set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_owner_value_round_trips() {
        let v = dns_owner_value("lanka", "dns.api.target.dr", "CNAME", Some("dr"));
        assert_eq!(
            parse_dns_owner_value(&v),
            Some((
                "lanka".into(),
                "dns.api.target.dr".into(),
                "CNAME".into(),
                Some("dr".into())
            ))
        );
        let simple = dns_owner_value("s", "dns.www.target.main", "A", None);
        assert_eq!(parse_dns_owner_value(&simple).and_then(|p| p.3), None);
        assert_eq!(parse_dns_owner_value("\"v=spf1 -all\""), None);
    }
}
