//! The profile's table from carrier status codes to Connect's standardized codes.

use std::collections::{BTreeMap, HashMap};

use crate::profile::{StandardizedStatus, StatusEntry};

#[derive(Debug, Clone)]
pub struct StatusTable {
    exact: HashMap<String, (StandardizedStatus, Option<String>)>,
    /// Prefix entries (`N*` in the profile), longest first.
    prefixes: Vec<(String, StandardizedStatus, Option<String>)>,
}

impl StatusTable {
    pub fn new(entries: &BTreeMap<String, StatusEntry>) -> StatusTable {
        let mut exact = HashMap::new();
        let mut prefixes = Vec::new();
        for (code, entry) in entries {
            let description = entry.description().map(str::to_string);
            match code.strip_suffix('*') {
                Some(prefix) => prefixes.push((prefix.to_string(), entry.status(), description)),
                None => {
                    exact.insert(code.clone(), (entry.status(), description));
                }
            }
        }
        prefixes.sort_by_key(|(prefix, _, _)| std::cmp::Reverse(prefix.len()));
        StatusTable { exact, prefixes }
    }

    /// Looks a code up: an exact entry first, then the longest matching prefix.
    pub fn lookup(&self, code: &str) -> Option<(StandardizedStatus, Option<&str>)> {
        if let Some((status, description)) = self.exact.get(code) {
            return Some((*status, description.as_deref()));
        }
        self.prefixes
            .iter()
            .find(|(prefix, _, _)| code.starts_with(prefix.as_str()))
            .map(|(_, status, description)| (*status, description.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        let entries: BTreeMap<String, StatusEntry> = serde_json::from_str(
            r#"{"N*": "AT", "N6*": "EX", "N25": {"status": "AT", "description": "First notice left"}, "S00": "DE"}"#,
        )
        .unwrap();
        let table = StatusTable::new(&entries);
        assert_eq!(
            table.lookup("N25"),
            Some((StandardizedStatus::AT, Some("First notice left")))
        );
        assert_eq!(table.lookup("N68"), Some((StandardizedStatus::EX, None)));
        assert_eq!(table.lookup("N05"), Some((StandardizedStatus::AT, None)));
        assert_eq!(table.lookup("S00"), Some((StandardizedStatus::DE, None)));
        assert_eq!(table.lookup("X"), None);
    }
}
