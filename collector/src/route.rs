//! Which records a sink takes: those at or above its minimum level, from a logger its name prefixes
//! select ([`Route::takes`]). The writer asks this for every record and sink; a record no sink takes
//! is counted as unrouted.
//!
//! A prefix matches on dotted-name boundaries, like Python's logger hierarchy: `app.db` matches
//! `app.db` and `app.db.pool`, not `app.dbx`. An empty `include` takes every logger, and `exclude`
//! wins over `include`. The logger name only selects among the sinks of the config; it never becomes
//! part of a path.

/// Logger-name filter of one sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Route {
    /// An empty `include` accepts every logger; `exclude` wins over `include`.
    pub fn new(include: Vec<String>, exclude: Vec<String>) -> Route {
        Route { include, exclude }
    }

    /// Whether a sink with this route and minimum level `min_level` takes a record of level
    /// `levelno` from logger `name`. The level is tested first: it is the cheaper test.
    #[inline]
    pub fn takes(&self, min_level: i64, levelno: i64, name: &str) -> bool {
        levelno >= min_level && self.accepts(name)
    }

    /// Whether the logger-name prefixes select logger `name` (the level aside).
    pub fn accepts(&self, name: &str) -> bool {
        if self.exclude.iter().any(|p| prefix_matches(p, name)) {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|p| prefix_matches(p, name))
    }
}

/// `prefix` is `name` or one of its ancestors in the dotted hierarchy.
pub fn prefix_matches(prefix: &str, name: &str) -> bool {
    match name.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || prefix.ends_with('.'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_on_dots() {
        assert!(prefix_matches("app.db", "app.db"));
        assert!(prefix_matches("app.db", "app.db.pool"));
        assert!(!prefix_matches("app.db", "app.dbx"));
        assert!(!prefix_matches("app.db", "app"));
        assert!(prefix_matches("app.", "app.x"));
    }

    #[test]
    fn exclude_wins_and_empty_include_takes_all() {
        let r = Route::new(vec![], vec!["app.noisy".into()]);
        assert!(r.accepts("root"));
        assert!(!r.accepts("app.noisy.sub"));
        let r = Route::new(vec!["app".into()], vec!["app.db".into()]);
        assert!(r.accepts("app.web"));
        assert!(!r.accepts("app.db"));
        assert!(!r.accepts("other"));
    }

    #[test]
    fn the_level_is_checked_with_the_name() {
        let r = Route::new(vec!["app".into()], vec![]);
        assert!(r.takes(30, 30, "app.web"));
        assert!(r.takes(30, 40, "app"));
        assert!(!r.takes(30, 20, "app.web"));
        assert!(!r.takes(30, 40, "other"));
    }
}
