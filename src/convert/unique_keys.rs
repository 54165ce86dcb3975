//! Every key once: a JSON object that names a key twice, or a proto field under both
//! its names (`budget_cap` and `budgetCap`), is refused before it is read
//! (docs/MODEL.md §1), since a reader would otherwise keep the later value and
//! silently drop the earlier one.
//!
//! pbjson's generated readers refuse most repeated fields themselves, but not all: an
//! optional field given first as null takes the later value, a map (`revenueScale`)
//! keeps the later of two equal keys, and so does a `serde_json::Value`, which the
//! plan reader goes through when it adds enum prefixes and which the scenario reader
//! always uses. So the check is a pass of its own over the text, before any reader:
//! a serde visitor that reads every value, keeps the keys of each object and the path
//! to the value at hand, and stops at the first repeat with that path and the
//! deserializer's line and column. No dependency beyond serde and serde_json.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A key given twice in one object of a JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedKey {
    /// 1-based line of the repeated key.
    pub line: usize,
    /// 1-based column of the repeated key's closing quote.
    pub column: usize,
    /// JSON path of the repeated key as written (`drivers[2].response[0].revenuePerUnit`).
    pub path: String,
    /// What is wrong, naming both keys.
    pub message: String,
}

impl fmt::Display for RepeatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}: {}",
            self.line, self.column, self.path, self.message
        )
    }
}

/// Checks that no object of `text` names a key twice, and that no object names one
/// proto field under both its names: its proto name (`budget_cap`) and its proto3
/// JSON name (`budgetCap`).
///
/// `maps` lists the proto3 JSON names of the map fields of the message being read
/// (`revenueScale`): their objects' keys are data (driver ids, period names), so only
/// exact repeats are refused there, and `new_ae` beside `newAe` is two keys.
///
/// A text that is not JSON passes: its syntax error is the reader's to report, in
/// the reader's words.
pub fn check_unique_keys(text: &str, maps: &[&str]) -> Result<(), RepeatedKey> {
    let walk = Walk {
        maps,
        path: RefCell::new(Vec::new()),
        found: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let node = Node {
        walk: &walk,
        data_keys: false,
    };
    match node.deserialize(&mut deserializer) {
        Ok(()) => Ok(()),
        Err(error) => match walk.found.into_inner() {
            Some((path, message)) => Err(RepeatedKey {
                line: error.line(),
                column: error.column(),
                path,
                message,
            }),
            None => Ok(()),
        },
    }
}

/// The state of one pass: where it is, and the first repeat found.
struct Walk<'a> {
    maps: &'a [&'a str],
    path: RefCell<Vec<Step>>,
    found: RefCell<Option<(String, String)>>,
}

enum Step {
    Key(String),
    Index(usize),
}

impl Walk<'_> {
    /// The path to the value at hand, then `key`, written as serde_path_to_error
    /// writes it (`drivers[2].response[0].revenuePerUnit`), as the reader's own
    /// errors are.
    fn path_to(&self, key: &str) -> String {
        let mut path = String::new();
        for step in self.path.borrow().iter() {
            match step {
                Step::Key(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Step::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        path
    }
}

/// The proto3 JSON name of a proto field name: `min_units_by_period` →
/// `minUnitsByPeriod`. Keys that are not lower snake case (camelCase names, keys
/// with `__` or capitals) are their own JSON name, so that only a proto name beside
/// its JSON name counts as one field written twice.
fn json_name(key: &str) -> Cow<'_, str> {
    let snake = key.contains('_')
        && key.split('_').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !snake {
        return Cow::Borrowed(key);
    }
    let mut name = String::with_capacity(key.len());
    for (index, word) in key.split('_').enumerate() {
        let mut chars = word.chars();
        if index > 0 {
            if let Some(first) = chars.next() {
                name.push(first.to_ascii_uppercase());
            }
        }
        name.extend(chars);
    }
    Cow::Owned(name)
}

/// One value of the text; `data_keys` when it is the object of a map field.
#[derive(Clone, Copy)]
struct Node<'w, 'a> {
    walk: &'w Walk<'a>,
    data_keys: bool,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let element = Node {
            walk: self.walk,
            data_keys: false,
        };
        for index in 0.. {
            self.walk.path.borrow_mut().push(Step::Index(index));
            let more = seq.next_element_seed(element)?;
            self.walk.path.borrow_mut().pop();
            if more.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        // Field names by their JSON name, as written.
        let mut fields: HashMap<String, String> = HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let name = json_name(&key).into_owned();
            let repeat = if keys.contains(&key) {
                Some(format!(
                    "the key `{key}` appears twice in this object; give it once (a \
                     later value would replace the earlier one)"
                ))
            } else if self.data_keys {
                None
            } else {
                fields.get(&name).map(|other| {
                    format!(
                        "`{key}` and `{other}` are the same field under its two names; \
                         give it once (a later value would replace the earlier one)"
                    )
                })
            };
            if let Some(message) = repeat {
                *self.walk.found.borrow_mut() = Some((self.walk.path_to(&key), message.clone()));
                return Err(de::Error::custom(message));
            }
            let value = Node {
                walk: self.walk,
                data_keys: !self.data_keys && self.walk.maps.contains(&name.as_str()),
            };
            keys.insert(key.clone());
            if !self.data_keys {
                fields.insert(name, key.clone());
            }
            self.walk.path.borrow_mut().push(Step::Key(key));
            map.next_value_seed(value)?;
            self.walk.path.borrow_mut().pop();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(text: &str, maps: &[&str]) -> RepeatedKey {
        match check_unique_keys(text, maps) {
            Ok(()) => panic!("{text}: no repeat found"),
            Err(repeated) => repeated,
        }
    }

    #[test]
    fn unique_keys_pass() {
        let text = r#"{"budgetCap": 1, "drivers": [{"id": "a", "response": [{"units": 1},
                      {"units": 2}]}, {"id": "b", "response": []}], "x": null, "y": [[], {}]}"#;
        assert_eq!(check_unique_keys(text, &[]), Ok(()));
        // The same key in sibling objects, or at two depths, is no repeat.
        let text = r#"{"name": "p", "periods": [{"name": "Q1"}, {"name": "Q2"}]}"#;
        assert_eq!(check_unique_keys(text, &[]), Ok(()));
    }

    #[test]
    fn same_key_twice_at_the_top() {
        // The second `"budgetCap"` spans columns 18 to 28 of line 1.
        let found = repeat(r#"{"budgetCap": 1, "budgetCap": 2}"#, &[]);
        assert_eq!(found.path, "budgetCap");
        assert_eq!((found.line, found.column), (1, 28));
        assert!(
            found.message.contains("`budgetCap` appears twice"),
            "{found}"
        );
    }

    #[test]
    fn same_key_twice_deep_names_its_path_and_line() {
        let text = "{\"drivers\": [\n  {\"id\": \"a\"},\n  {\"id\": \"b\"},\n  {\"id\": \"c\",\n   \"response\": [{\"revenuePerUnit\": 1, \"revenuePerUnit\": 2}]}\n]}";
        let found = repeat(text, &[]);
        assert_eq!(found.path, "drivers[2].response[0].revenuePerUnit");
        assert_eq!(found.line, 5);
        assert_eq!(
            found.to_string(),
            format!(
                "line 5, column {}: drivers[2].response[0].revenuePerUnit: the key \
                 `revenuePerUnit` appears twice in this object; give it once (a later \
                 value would replace the earlier one)",
                found.column
            )
        );
    }

    #[test]
    fn a_field_under_both_names_is_refused() {
        let found = repeat(r#"{"budget_cap": 1, "budgetCap": 1}"#, &[]);
        assert_eq!(found.path, "budgetCap");
        assert!(
            found
                .message
                .contains("`budgetCap` and `budget_cap` are the same field"),
            "{found}"
        );
        // Either order, any depth, names of several words.
        let found = repeat(
            r#"{"drivers": [{"minUnitsByPeriod": [1], "min_units_by_period": [2]}]}"#,
            &[],
        );
        assert_eq!(found.path, "drivers[0].min_units_by_period");
        assert!(found.message.contains("`minUnitsByPeriod`"), "{found}");
    }

    #[test]
    fn repeats_of_any_value_kind_are_refused() {
        for value in ["null", "[1]", "{}", "\"x\"", "true"] {
            let text = format!(r#"{{"requirements": {{"minMargin": {value}, "minMargin": 1}}}}"#);
            assert_eq!(repeat(&text, &[]).path, "requirements.minMargin", "{text}");
        }
    }

    #[test]
    fn keys_that_only_look_alike_are_two_keys() {
        // Not a proto name and its JSON name: unknown fields, for the reader to refuse.
        for text in [
            r#"{"budget__cap": 1, "budgetCap": 1}"#,
            r#"{"Budget_cap": 1, "BudgetCap": 1}"#,
            r#"{"budgetcap": 1, "budgetCap": 1}"#,
        ] {
            assert_eq!(check_unique_keys(text, &[]), Ok(()), "{text}");
        }
    }

    #[test]
    fn map_keys_are_data_but_may_not_repeat() {
        let maps = ["revenueScale"];
        // Two drivers whose ids only look like the two names of one field.
        let text = r#"{"overrides": {"revenueScale": {"new_ae": 1, "newAe": 2}}}"#;
        assert_eq!(check_unique_keys(text, &maps), Ok(()));
        // The map under its proto name is the same map.
        let text = r#"{"overrides": {"revenue_scale": {"new_ae": 1, "newAe": 2}}}"#;
        assert_eq!(check_unique_keys(text, &maps), Ok(()));
        // The same driver twice is refused.
        let found = repeat(
            r#"{"overrides": {"revenueScale": {"ae": 1, "ae": 2}}}"#,
            &maps,
        );
        assert_eq!(found.path, "overrides.revenueScale.ae");
        // And so is the map under both its names.
        let found = repeat(
            r#"{"overrides": {"revenueScale": {"ae": 1}, "revenue_scale": {"sdr": 2}}}"#,
            &maps,
        );
        assert_eq!(found.path, "overrides.revenue_scale");
    }

    #[test]
    fn syntax_errors_are_left_to_the_reader() {
        for text in ["{\"a\": 1,, \"a\": 2}", "{\"a\": ", "", "[1, 2", "{} x"] {
            assert_eq!(check_unique_keys(text, &[]), Ok(()), "{text}");
        }
        // A repeat before the syntax error is found.
        assert_eq!(repeat("{\"a\": 1, \"a\": 2,,}", &[]).path, "a");
    }

    #[test]
    fn deep_nesting_stops_at_the_parsers_limit() {
        // serde_json's recursion limit (128) ends the pass without a repeat found.
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(check_unique_keys(&text, &[]), Ok(()));
    }

    #[test]
    fn json_names() {
        assert_eq!(json_name("budget_cap"), "budgetCap");
        assert_eq!(json_name("min_units_by_period"), "minUnitsByPeriod");
        assert_eq!(json_name("field_1"), "field1");
        assert_eq!(json_name("budgetCap"), "budgetCap");
        assert_eq!(json_name("id"), "id");
        assert_eq!(json_name("_x"), "_x");
        assert_eq!(json_name("x_"), "x_");
    }
}
