//! `diff(desired, live) -> Plan`, a pure function.
