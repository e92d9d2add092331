//! Multi-document YAML manifest files -> one JSON object per document, each with the
//! line it starts on so problems point into the file.

use serde_json::Value;

/// One non-empty document of a manifest file.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// 1-based line of the document's first line (after any `---`).
    pub line: usize,
    pub object: Value,
}

/// A document that is not a Kubernetes object.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentError {
    pub line: usize,
    pub message: String,
}

/// Splits on `---` lines and parses each document. Empty documents (nothing but
/// comments or whitespace) are skipped, as kubectl does.
pub fn parse(text: &str) -> (Vec<Document>, Vec<DocumentError>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (line, chunk) in split_documents(text) {
        match serde_yaml_ng::from_str::<Value>(&chunk) {
            Ok(Value::Null) => {}
            Ok(object) => match check_object(&object) {
                Ok(()) => docs.push(Document { line, object }),
                Err(message) => errors.push(DocumentError { line, message }),
            },
            Err(e) => {
                // An unterminated construct is reported past the document's end; point
                // at its last line instead.
                let last = chunk.lines().count().max(1);
                let at = e
                    .location()
                    .map(|l| line + l.line().clamp(1, last) - 1)
                    .unwrap_or(line);
                // serde_yaml_ng's message repeats the location; keep only the reason.
                let reason = e.to_string();
                let reason = reason
                    .split(" at line ")
                    .next()
                    .unwrap_or(&reason)
                    .to_string();
                errors.push(DocumentError {
                    line: at,
                    message: format!("invalid YAML: {reason}"),
                });
            }
        }
    }
    (docs, errors)
}

fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        let is_separator =
            line == "---" || line.starts_with("--- ") || line.starts_with("---\t") || line == "...";
        if is_separator {
            out.push((start, std::mem::take(&mut current)));
            start = index + 2;
            // `--- key: value` starts the document on the separator line itself.
            if let Some(rest) = line.strip_prefix("--- ") {
                current.push_str(rest);
                current.push('\n');
                start = index + 1;
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    out.push((start, current));
    out
}

fn check_object(object: &Value) -> Result<(), String> {
    let Some(map) = object.as_object() else {
        return Err("a manifest document must be a Kubernetes object (a mapping with apiVersion, kind and metadata)".into());
    };
    for key in ["apiVersion", "kind"] {
        if map
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("the object has no `{key}`"));
        }
    }
    if object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let hint = if object.pointer("/metadata/generateName").is_some() {
            ": generateName is not supported, drplan needs a stable name to find the object again"
        } else {
            ""
        };
        return Err(format!("the object has no `metadata.name`{hint}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_with_their_lines_and_empty_ones_skipped() {
        let text = "# header\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let (docs, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs.iter().map(|d| d.line).collect::<Vec<_>>(), vec![3, 10]);
        assert_eq!(docs[1].object["metadata"]["name"], "b");
    }

    #[test]
    fn bad_documents_point_at_their_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\n- a list\n---\napiVersion: v1\nkind: [oops\n";
        let (docs, errors) = parse(text);
        assert!(docs.is_empty());
        assert_eq!(
            errors[0],
            DocumentError {
                line: 1,
                message: "the object has no `metadata.name`".into()
            }
        );
        assert_eq!(errors[1].line, 5);
        assert_eq!(errors[2].line, 8);
        assert!(
            errors[2].message.starts_with("invalid YAML"),
            "{}",
            errors[2].message
        );
    }
}
