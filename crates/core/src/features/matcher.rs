//! The feature code matcher: DTMF digits of one bridged channel in, "pass
//! these on", "hold on" or "this feature" out, as Asterisk's bridge
//! channel feature hooks behave.
//!
//! Sans-IO: time is a parameter. A digit that starts a feature code is held
//! back from the other party; the sequence either completes a code (the
//! feature runs and the digits are never heard), stops matching (every
//! held digit is released, the last one too), or waits longer than
//! `featuredigittimeout` after its last digit ([`Matcher::poll_timeout`],
//! then [`Matcher::handle_timeout`] releases them).

use std::time::{Duration, Instant};

use super::Feature;

/// What a digit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// These digits (the held ones and this one, in order) go to the other
    /// party: they match no code.
    Release(String),
    /// The digit may start or continue a code: held until more arrive or
    /// the timeout passes.
    Held,
    /// The digits complete the code of this feature: it runs, and the
    /// digits are swallowed.
    Matched(Feature),
}

/// Feature codes of one side of a bridge, and the digits held so far.
#[derive(Debug, Clone)]
pub struct Matcher {
    codes: Vec<(Feature, String)>,
    timeout: Duration,
    held: String,
    deadline: Option<Instant>,
}

impl Matcher {
    /// A matcher for `codes` (empty codes are ignored: the feature is
    /// off), holding a partial match for `timeout` after its last digit.
    pub fn new(codes: Vec<(Feature, String)>, timeout: Duration) -> Matcher {
        Matcher {
            codes: codes.into_iter().filter(|(_, c)| !c.is_empty()).collect(),
            timeout,
            held: String::new(),
            deadline: None,
        }
    }

    /// Whether any feature can match (otherwise every digit passes at once).
    pub fn is_active(&self) -> bool {
        !self.codes.is_empty()
    }

    /// The digits held back now.
    pub fn held(&self) -> &str {
        &self.held
    }

    /// A digit pressed at `now`. An exact match wins at once, even if a
    /// longer code starts with it (Asterisk finds the shortest first).
    pub fn handle_digit(&mut self, digit: char, now: Instant) -> Outcome {
        self.held.push(digit);
        if let Some((feature, _)) = self.codes.iter().find(|(_, c)| *c == self.held) {
            self.held.clear();
            self.deadline = None;
            return Outcome::Matched(*feature);
        }
        if self.codes.iter().any(|(_, c)| c.starts_with(&self.held)) {
            self.deadline = Some(now + self.timeout);
            return Outcome::Held;
        }
        self.deadline = None;
        Outcome::Release(std::mem::take(&mut self.held))
    }

    /// When [`Matcher::handle_timeout`] must be called, if digits are held.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Releases the held digits if their time is up at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<String> {
        match self.deadline {
            Some(deadline) if deadline <= now => {
                self.deadline = None;
                Some(std::mem::take(&mut self.held))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        Matcher::new(
            vec![
                (Feature::BlindTransfer, "#".into()),
                (Feature::Disconnect, "*0".into()),
                (Feature::BlindTransfer, "*2".into()),
                (Feature::Disconnect, String::new()),
            ],
            Duration::from_millis(1000),
        )
    }

    #[test]
    fn a_digit_that_starts_no_code_passes_at_once() {
        let mut m = matcher();
        let t = Instant::now();
        assert_eq!(m.handle_digit('5', t), Outcome::Release("5".into()));
        assert_eq!(m.poll_timeout(), None);
        assert!(m.is_active());
    }

    #[test]
    fn a_complete_code_matches_and_is_swallowed() {
        let mut m = matcher();
        let t = Instant::now();
        assert_eq!(
            m.handle_digit('#', t),
            Outcome::Matched(Feature::BlindTransfer)
        );
        assert_eq!(m.held(), "");
        assert_eq!(m.handle_digit('*', t), Outcome::Held);
        assert_eq!(m.held(), "*");
        assert_eq!(
            m.handle_digit('2', t),
            Outcome::Matched(Feature::BlindTransfer)
        );
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn a_partial_match_is_released_whole_on_mismatch() {
        let mut m = matcher();
        let t = Instant::now();
        assert_eq!(m.handle_digit('*', t), Outcome::Held);
        assert_eq!(m.handle_digit('7', t), Outcome::Release("*7".into()));
        assert_eq!(m.held(), "");
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn a_partial_match_is_released_when_the_digit_timeout_passes() {
        let mut m = matcher();
        let t = Instant::now();
        assert_eq!(m.handle_digit('*', t), Outcome::Held);
        let deadline = m.poll_timeout().expect("waiting");
        assert_eq!(deadline, t + Duration::from_millis(1000));
        assert_eq!(m.handle_timeout(t + Duration::from_millis(999)), None);
        assert_eq!(m.handle_timeout(deadline), Some("*".into()));
        assert_eq!(m.poll_timeout(), None);
        assert_eq!(m.handle_timeout(deadline), None);
    }

    #[test]
    fn each_held_digit_restarts_the_timeout() {
        let mut m = Matcher::new(
            vec![(Feature::Disconnect, "*01".into())],
            Duration::from_millis(500),
        );
        let t = Instant::now();
        assert_eq!(m.handle_digit('*', t), Outcome::Held);
        let later = t + Duration::from_millis(400);
        assert_eq!(m.handle_digit('0', later), Outcome::Held);
        assert_eq!(m.poll_timeout(), Some(later + Duration::from_millis(500)));
        assert_eq!(m.handle_timeout(t + Duration::from_millis(600)), None);
        assert_eq!(
            m.handle_digit('1', later),
            Outcome::Matched(Feature::Disconnect)
        );
    }

    #[test]
    fn without_codes_every_digit_passes() {
        let mut m = Matcher::new(vec![(Feature::Disconnect, String::new())], Duration::ZERO);
        assert!(!m.is_active());
        assert_eq!(
            m.handle_digit('*', Instant::now()),
            Outcome::Release("*".into())
        );
    }
}
