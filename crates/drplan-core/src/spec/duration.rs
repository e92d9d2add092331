//! Durations (`"15m"`, `"36h"`, `"30d"`, `"7y"`) and cron schedules.

use std::time::Duration;

const UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("m", 60),
    ("h", 3600),
    ("d", 86_400),
    ("w", 604_800),
    ("y", 31_536_000),
];

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration"))?;
    let mult = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, m)| *m)
        .ok_or_else(|| format!("`{s}` is not a duration"))?;
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

/// Retention periods are whole days (S3 lifecycle rules count in days).
pub fn whole_days(d: Duration) -> Option<i64> {
    let secs = d.as_secs();
    (secs.is_multiple_of(86_400) && secs > 0).then_some((secs / 86_400) as i64)
}

/// A five-field UTC cron expression.
pub fn check_cron(expr: &str) -> Result<(), String> {
    if expr.split_whitespace().count() != 5 {
        return Err(format!(
            "`{expr}` must have five fields (minute hour day month weekday)"
        ));
    }
    expr.parse::<croner::Cron>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub const DURATION_HELP: &str = "write a number and a unit: s, m, h, d, w or y (e.g. \"30d\")";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(
            parse_duration("7y").map(|d| d.as_secs()),
            Ok(7 * 365 * 86_400)
        );
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(whole_days(Duration::from_secs(36 * 3600)), None);
        assert_eq!(whole_days(Duration::from_secs(2 * 86_400)), Some(2));
    }

    #[test]
    fn cron() {
        assert!(check_cron("0 * * * *").is_ok());
        assert!(check_cron("0 25 * * *").is_err());
        assert!(check_cron("* * *").is_err());
    }
}
