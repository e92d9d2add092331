//! The functions the spec language offers (docs/spec-reference.md "Functions"),
//! declared into every evaluation context.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

pub fn declare_all(ctx: &mut Context) {
    use ParamType::*;
    let f = |params: Vec<ParamType>, func: hcl::eval::Func| FuncDef::new(func, params);
    let v = |params: Vec<ParamType>, variadic: ParamType, func: hcl::eval::Func| {
        FuncDef::builder().params(params).variadic_param(variadic).build(func)
    };
    ctx.declare_func("cidrsubnet", f(vec![String, Number, Number], cidrsubnet));
    ctx.declare_func("format", v(vec![String], Any, format));
    ctx.declare_func("lookup", v(vec![Any, String], Any, lookup));
    ctx.declare_func("merge", v(vec![], Any, merge));
    ctx.declare_func("concat", v(vec![], Any, concat));
    ctx.declare_func("contains", f(vec![Any, Any], contains));
    ctx.declare_func("length", f(vec![Any], length));
    ctx.declare_func("lower", f(vec![String], |a| Ok(Value::from(str_arg(&a, 0).to_lowercase()))));
    ctx.declare_func("upper", f(vec![String], |a| Ok(Value::from(str_arg(&a, 0).to_uppercase()))));
    ctx.declare_func("join", f(vec![String, Any], join));
    ctx.declare_func("replace", f(vec![String, String, String], |a| {
        Ok(Value::from(str_arg(&a, 0).replace(str_arg(&a, 1), str_arg(&a, 2))))
    }));
    ctx.declare_func("keys", f(vec![Any], keys));
    ctx.declare_func("values", f(vec![Any], values));
    ctx.declare_func("tostring", f(vec![Any], tostring));
    ctx.declare_func("tonumber", f(vec![Any], tonumber));
    ctx.declare_func("coalesce", v(vec![], Any, coalesce));
    ctx.declare_func("regex", f(vec![String, String], regex_match));
}

fn str_arg(args: &FuncArgs, i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

fn int_arg(args: &FuncArgs, i: usize) -> Result<i64, String> {
    args.get(i)
        .and_then(|v| v.as_number())
        .and_then(Number::as_i64)
        .ok_or_else(|| format!("argument {} must be a whole number", i + 1))
}

fn cidrsubnet(args: FuncArgs) -> Result<Value, String> {
    let prefix: Ipv4Net = str_arg(&args, 0)
        .parse()
        .map_err(|_| format!("`{}` is not an IPv4 CIDR block", str_arg(&args, 0)))?;
    let newbits = int_arg(&args, 1)?;
    let netnum = int_arg(&args, 2)?;
    let new_len = i64::from(prefix.prefix_len()) + newbits;
    if !(0..=32).contains(&newbits) || new_len > 32 {
        return Err(format!("cannot extend prefix /{} by {newbits} bits", prefix.prefix_len()));
    }
    if netnum < 0 || netnum >= (1i64 << newbits) {
        return Err(format!("netnum {netnum} does not fit in {newbits} bits"));
    }
    let base = u32::from(prefix.network());
    let shift = 32 - new_len;
    let addr = if shift >= 32 { base } else { base | ((netnum as u32) << shift) };
    Ok(Value::from(format!("{}/{}", Ipv4Addr::from(addr), new_len)))
}

fn format(args: FuncArgs) -> Result<Value, String> {
    let fmt = str_arg(&args, 0);
    let mut rest = args.iter().skip(1);
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() {
                flags.push(d);
                chars.next();
            } else {
                break;
            }
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'd' | 'v')) => {
                let arg = rest.next().ok_or("not enough arguments for format string")?;
                let text = match (verb, arg) {
                    ('d', Value::Number(n)) => n.as_i64().map(|i| i.to_string()).ok_or("%d needs a whole number")?,
                    ('d', other) => return Err(format!("%d needs a number, got {other}")),
                    (_, Value::String(s)) => s.clone(),
                    (_, other) => other.to_string(),
                };
                let width: usize = flags.parse().unwrap_or(0);
                let pad = if flags.starts_with('0') { '0' } else { ' ' };
                for _ in text.chars().count()..width {
                    out.push(pad);
                }
                out.push_str(&text);
            }
            Some(other) => return Err(format!("unsupported format verb `%{other}`")),
            None => return Err("format string ends with `%`".into()),
        }
    }
    Ok(Value::from(out))
}

fn lookup(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("lookup needs a map")?;
    match map.get(str_arg(&args, 1)) {
        Some(v) => Ok(v.clone()),
        None => args.get(2).cloned().ok_or_else(|| format!("no key `{}` and no default", str_arg(&args, 1))),
    }
}

fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut out = Map::new();
    for a in args.iter() {
        let m = a.as_object().ok_or("merge takes maps")?;
        for (k, v) in m {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for a in args.iter() {
        out.extend(a.as_array().ok_or("concat takes lists")?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn contains(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().ok_or("contains needs a list")?;
    Ok(Value::Bool(list.contains(&args[1])))
}

fn length(args: FuncArgs) -> Result<Value, String> {
    let n = match &args[0] {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("length of {other} is undefined")),
    };
    Ok(Value::from(n as u64))
}

fn join(args: FuncArgs) -> Result<Value, String> {
    let list = args[1].as_array().ok_or("join needs a list")?;
    let parts: Result<Vec<String>, String> = list
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(format!("cannot join {other}")),
        })
        .collect();
    Ok(Value::from(parts?.join(str_arg(&args, 0))))
}

fn keys(args: FuncArgs) -> Result<Value, String> {
    let m = args[0].as_object().ok_or("keys needs a map")?;
    Ok(Value::Array(m.keys().cloned().map(Value::from).collect()))
}

fn values(args: FuncArgs) -> Result<Value, String> {
    let m = args[0].as_object().ok_or("values needs a map")?;
    Ok(Value::Array(m.values().cloned().collect()))
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::String(s) => Ok(Value::from(s.clone())),
        Value::Number(n) => Ok(Value::from(n.to_string())),
        Value::Bool(b) => Ok(Value::from(b.to_string())),
        other => Err(format!("cannot convert {other} to a string")),
    }
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => {
            if let Ok(i) = s.trim().parse::<i64>() {
                Ok(Value::from(i))
            } else {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("`{s}` is not a number"))
            }
        }
        other => Err(format!("cannot convert {other} to a number")),
    }
}

fn coalesce(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "every argument is null or empty".to_string())
}

/// Like Terraform: the first match, or an error when nothing matches, so that
/// `can(regex(...))` in a variable validation reads naturally.
fn regex_match(args: FuncArgs) -> Result<Value, String> {
    let re = regex_lite::Regex::new(str_arg(&args, 0)).map_err(|e| format!("invalid pattern: {e}"))?;
    let s = str_arg(&args, 1);
    match re.find(s) {
        Some(m) => Ok(Value::from(m.as_str().to_string())),
        None => Err(format!("pattern does not match `{s}`")),
    }
}
