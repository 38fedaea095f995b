//! Java regular expressions as `Pattern.matcher(topic).matches()` uses them, and Java's
//! replacement syntax (`$1`, `${name}`, `\$`). The `regex` crate covers Java's syntax except
//! look-around, back-references, possessive quantifiers and atomic groups.

use regex::{Captures, Regex};

/// A pattern that must match a whole text, as Java's `Matcher.matches()` requires.
#[derive(Clone, Debug)]
pub struct WholeMatch {
    whole: Regex,
    /// Unanchored, for `replaceFirst`, which searches again after `matches()`.
    search: Regex,
}

impl WholeMatch {
    pub fn new(pattern: &str) -> Result<WholeMatch, String> {
        let compile = |p: &str| {
            Regex::new(p).map_err(|e| {
                format!(
                    "is not a valid regular expression ({}); look-around, back-references, possessive quantifiers and atomic groups are not supported",
                    e.to_string().lines().last().unwrap_or_default().trim()
                )
            })
        };
        Ok(WholeMatch { whole: compile(&format!(r"\A(?:{pattern})\z"))?, search: compile(pattern)? })
    }

    pub fn matches(&self, text: &str) -> bool {
        self.whole.is_match(text)
    }

    /// Java's `Matcher.replaceFirst(replacement)`.
    pub fn replace_first(&self, text: &str, replacement: &Replacement) -> String {
        match self.search.captures(text) {
            Some(captures) => {
                let m = captures.get(0).expect("group 0 is the match");
                format!("{}{}{}", &text[..m.start()], replacement.expand(&captures), &text[m.end()..])
            }
            None => text.to_owned(),
        }
    }

    /// A Java replacement string, checked against this pattern's groups.
    pub fn replacement(&self, text: &str) -> Result<Replacement, String> {
        let group_count = self.search.captures_len() - 1;
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    literal.push(chars.next().ok_or("ends with a backslash that escapes nothing; write \\\\ for a backslash")?)
                }
                '$' => {
                    let group = match chars.next() {
                        Some('{') => {
                            let mut name = String::new();
                            loop {
                                match chars.next() {
                                    Some('}') => break,
                                    Some(c) => name.push(c),
                                    None => return Err(format!("has ${{{name} without its closing brace")),
                                }
                            }
                            self.search
                                .capture_names()
                                .position(|n| n == Some(name.as_str()))
                                .ok_or_else(|| format!("refers to group ${{{name}}}, which the regex does not define"))?
                        }
                        Some(d) if d.is_ascii_digit() => {
                            // As Java: take further digits only while they still name a group.
                            let mut group = d.to_digit(10).unwrap_or_default() as usize;
                            while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                                let longer = group * 10 + next as usize;
                                if longer > group_count {
                                    break;
                                }
                                group = longer;
                                chars.next();
                            }
                            if group > group_count {
                                return Err(format!("refers to group ${group}, but the regex has {group_count} groups"));
                            }
                            group
                        }
                        _ => {
                            return Err(
                                "has a $ that is not followed by a group number or {name}; write \\$ for a dollar sign".into()
                            );
                        }
                    };
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                    parts.push(Part::Group(group));
                }
                c => literal.push(c),
            }
        }
        parts.push(Part::Literal(literal));
        parts.retain(|p| !matches!(p, Part::Literal(l) if l.is_empty()));
        Ok(Replacement { parts })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Replacement {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    Group(usize),
}

impl Replacement {
    fn expand(&self, captures: &Captures) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.as_str(),
                Part::Group(n) => captures.get(*n).map_or("", |m| m.as_str()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pattern: &str, replacement: &str, topic: &str) -> Option<String> {
        let regex = WholeMatch::new(pattern).unwrap();
        let replacement = regex.replacement(replacement).unwrap();
        regex.matches(topic).then(|| regex.replace_first(topic, &replacement))
    }

    #[test]
    fn matches_whole_texts_only() {
        let regex = WholeMatch::new("ab|abc").unwrap();
        assert!(regex.matches("abc"));
        assert!(!WholeMatch::new("b").unwrap().matches("abc"));
    }

    #[test]
    fn replacements_use_java_syntax() {
        assert_eq!(route("(.*)-(.*)", "$2_$1", "a-b").as_deref(), Some("b_a"));
        assert_eq!(route("(?<db>[a-z]+)\\.(\\w+)", "${db}-$2", "shop.orders").as_deref(), Some("shop-orders"));
        assert_eq!(route("(a)", "\\$1$1\\\\", "a").as_deref(), Some("$1a\\"));
        // "$10" is group 1 then "0" when there are fewer than ten groups.
        assert_eq!(route("(x)", "$10", "x").as_deref(), Some("x0"));
        // replaceFirst searches anew: the first alternative that matches wins.
        assert_eq!(route("a|ab", "X", "ab").as_deref(), Some("Xb"));
        assert_eq!(route("a(b)?", "[$1]", "a").as_deref(), Some("[]"));
    }

    #[test]
    fn bad_patterns_and_replacements_are_explained() {
        assert!(WholeMatch::new("(?=x)").unwrap_err().contains("look-around"));
        assert!(WholeMatch::new("(").is_err());
        let regex = WholeMatch::new("(a)").unwrap();
        assert!(regex.replacement("$2").unwrap_err().contains("has 1 groups"));
        assert!(regex.replacement("${x}").unwrap_err().contains("${x}"));
        assert!(regex.replacement("$").is_err());
        assert!(regex.replacement("${a").unwrap_err().contains("closing brace"));
        assert!(regex.replacement("$a").is_err());
        assert!(regex.replacement("a\\").is_err());
    }
}
