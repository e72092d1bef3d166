//! The state machine in virtual time: each test plays a server's answers
//! and checks what is sent when.

use super::*;

fn policy() -> Policy {
    Policy {
        expiration: 3600,
        retry_interval: 60,
        max_retries: 10,
        forbidden_retry_interval: 0,
        fatal_retry_interval: 0,
        auth_rejection_permanent: true,
    }
}

fn ok(granted: Option<u32>) -> Outcome {
    Outcome::Response {
        code: 200,
        granted,
        retry_after: None,
    }
}

fn fail(code: u16) -> Outcome {
    Outcome::Response {
        code,
        granted: None,
        retry_after: None,
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Drains the actions: the Expires of the REGISTERs to send, and the
/// reports.
fn drain(m: &mut Machine) -> (Vec<u32>, Vec<(Status, Verdict)>) {
    let mut sends = Vec::new();
    let mut reports = Vec::new();
    while let Some(a) = m.poll_action() {
        match a {
            Action::Send { expires } => sends.push(expires),
            Action::Report { status, verdict } => reports.push((status, verdict)),
        }
    }
    (sends, reports)
}

#[test]
fn registers_after_the_initial_delay_and_refreshes_before_expiry() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, secs(4));
    assert_eq!(m.poll_timeout(), Some(t0 + secs(4)));
    m.handle_timeout(t0 + secs(3));
    assert_eq!(drain(&mut m).0, Vec::<u32>::new());
    m.handle_timeout(t0 + secs(4));
    assert_eq!(drain(&mut m).0, vec![3600]);
    assert_eq!(m.poll_timeout(), None, "nothing scheduled while in flight");
    // The server grants less than asked: the refresh follows the grant.
    m.handle_outcome(ok(Some(120)), t0 + secs(5));
    assert_eq!(
        drain(&mut m).1,
        vec![(Status::Registered, Verdict::Registered(120))]
    );
    assert_eq!(m.status(), Status::Registered);
    assert_eq!(m.expires_at(), Some(t0 + secs(125)));
    assert_eq!(m.poll_timeout(), Some(t0 + secs(115)));
    m.handle_timeout(t0 + secs(115));
    assert_eq!(drain(&mut m).0, vec![3600]);
    // A 2xx without a grant keeps the expiry asked for.
    m.handle_outcome(ok(None), t0 + secs(116));
    assert_eq!(m.poll_timeout(), Some(t0 + secs(116 + 3590)));
    assert_eq!(refresh_after(8), 4);
    assert_eq!(refresh_after(0), 0);
}

#[test]
fn a_2xx_without_our_binding_is_unregistered() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(ok(Some(0)), t0);
    assert_eq!(
        drain(&mut m).1,
        vec![(Status::Unregistered, Verdict::Unregistered)]
    );
    assert_eq!(m.poll_timeout(), None);
}

/// Temporary failures are retried every retry_interval; after
/// max_retries of them the registration gives up.
#[test]
fn temporal_failures_retry_up_to_max_retries() {
    let t0 = Instant::now();
    let mut m = Machine::new(
        Policy {
            retry_interval: 5,
            max_retries: 2,
            ..policy()
        },
        t0,
        Duration::ZERO,
    );
    let mut now = t0;
    let mut sent = 0;
    for (i, outcome) in [fail(503), Outcome::NoResponse, fail(500)]
        .into_iter()
        .enumerate()
    {
        m.handle_timeout(now);
        let (sends, _) = drain(&mut m);
        assert_eq!(sends, vec![3600], "attempt {i}");
        sent += 1;
        m.handle_outcome(outcome, now);
        let (_, reports) = drain(&mut m);
        match i {
            0 => assert_eq!(
                reports,
                vec![(
                    Status::RejectedTemporary,
                    Verdict::Retry {
                        code: 503,
                        kind: RetryKind::Temporal,
                        after: 5
                    }
                )]
            ),
            1 => assert_eq!(
                reports[0].1,
                Verdict::Retry {
                    code: 0,
                    kind: RetryKind::NoResponse,
                    after: 5
                }
            ),
            _ => assert_eq!(
                reports,
                vec![(
                    Status::RejectedPermanent,
                    Verdict::GaveUp {
                        code: 500,
                        max_retries: true
                    }
                )]
            ),
        }
        if let Some(next) = m.poll_timeout() {
            assert_eq!(next, now + secs(5));
            now = next;
        }
    }
    assert_eq!(sent, 3);
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.status().as_str(), "Rejected");
}

/// A refused password: final by default (auth_rejection_permanent=yes),
/// retried as a temporary failure when it is off.
#[test]
fn auth_rejection_permanent() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(fail(401), t0);
    assert_eq!(m.status(), Status::RejectedPermanent);
    assert_eq!(m.poll_timeout(), None);

    let mut m = Machine::new(
        Policy {
            auth_rejection_permanent: false,
            retry_interval: 7,
            ..policy()
        },
        t0,
        Duration::ZERO,
    );
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(fail(407), t0);
    assert_eq!(m.status(), Status::RejectedTemporary);
    assert_eq!(m.retries(), 1);
    assert_eq!(m.poll_timeout(), Some(t0 + secs(7)));
    // Success resets the count.
    m.handle_timeout(t0 + secs(7));
    drain(&mut m);
    m.handle_outcome(ok(Some(60)), t0 + secs(7));
    assert_eq!(m.retries(), 0);
}

/// 403 after forbidden_retry_interval, other failures after
/// fatal_retry_interval, each within max_retries; Retry-After wins.
#[test]
fn forbidden_fatal_and_retry_after() {
    let t0 = Instant::now();
    let mut m = Machine::new(
        Policy {
            forbidden_retry_interval: 30,
            fatal_retry_interval: 90,
            max_retries: 1,
            ..policy()
        },
        t0,
        Duration::ZERO,
    );
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(fail(403), t0);
    assert_eq!(m.poll_timeout(), Some(t0 + secs(30)));
    assert_eq!(
        drain(&mut m).1[0].1,
        Verdict::Retry {
            code: 403,
            kind: RetryKind::Forbidden,
            after: 30
        }
    );
    m.handle_timeout(t0 + secs(30));
    drain(&mut m);
    m.handle_outcome(fail(404), t0 + secs(30));
    assert_eq!(m.status(), Status::RejectedPermanent, "max_retries reached");

    let mut m = Machine::new(
        Policy {
            fatal_retry_interval: 90,
            ..policy()
        },
        t0,
        Duration::ZERO,
    );
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(fail(404), t0);
    assert_eq!(m.poll_timeout(), Some(t0 + secs(90)));
    m.handle_timeout(t0 + secs(90));
    drain(&mut m);
    m.handle_outcome(
        Outcome::Response {
            code: 404,
            granted: None,
            retry_after: Some(12),
        },
        t0 + secs(90),
    );
    assert_eq!(m.poll_timeout(), Some(t0 + secs(102)));
    assert_eq!(m.status(), Status::RejectedTemporary);
}

/// `pjsip send unregister` removes the binding and stops refreshing;
/// `pjsip send register` unregisters, then registers afresh.
#[test]
fn unregister_then_register_on_demand() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(ok(Some(600)), t0);
    drain(&mut m);
    m.unregister(t0 + secs(1));
    assert_eq!(drain(&mut m).0, vec![0]);
    m.handle_outcome(ok(None), t0 + secs(1));
    assert_eq!(
        drain(&mut m).1,
        vec![(Status::Unregistered, Verdict::Unregistered)]
    );
    assert_eq!(m.poll_timeout(), None, "no refresh after unregister");
    m.register_now(t0 + secs(2));
    assert_eq!(drain(&mut m).0, vec![3600]);
    m.handle_outcome(ok(Some(600)), t0 + secs(2));
    drain(&mut m);
    m.register_now(t0 + secs(3));
    assert_eq!(drain(&mut m).0, vec![0], "unregisters first");
    m.handle_outcome(ok(None), t0 + secs(3));
    let (sends, reports) = drain(&mut m);
    assert_eq!(sends, vec![3600], "then registers");
    assert_eq!(reports[0].1, Verdict::Unregistered);
    // A rejected registration is tried again at once, retries reset.
    m.handle_outcome(fail(404), t0 + secs(4));
    assert_eq!(m.status(), Status::RejectedPermanent);
    m.register_now(t0 + secs(5));
    assert_eq!(drain(&mut m).0, vec![3600]);
}

/// Commands while a REGISTER is in flight wait for its answer.
#[test]
fn commands_during_a_request_wait_for_its_answer() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.unregister(t0);
    assert_eq!(drain(&mut m).0, Vec::<u32>::new());
    m.handle_outcome(ok(Some(600)), t0);
    let (sends, reports) = drain(&mut m);
    assert_eq!(sends, vec![0]);
    assert_eq!(reports[0].0, Status::Registered);
    m.handle_outcome(ok(None), t0);
    assert_eq!(m.status(), Status::Unregistered);
    assert_eq!(m.poll_timeout(), None);
}

/// Removal: unregister when registered, then stopped; stopped at once
/// otherwise.
#[test]
fn stop_unregisters_first() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.stop();
    assert!(m.is_stopped());
    assert_eq!(drain(&mut m).0, Vec::<u32>::new());

    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.handle_outcome(ok(Some(600)), t0);
    m.stop();
    assert_eq!(m.status().as_str(), "Stopped");
    assert_eq!(drain(&mut m).0, vec![0]);
    assert!(!m.is_stopped());
    m.handle_outcome(Outcome::NoResponse, t0 + secs(32));
    assert!(m.is_stopped());
    m.register_now(t0 + secs(33));
    assert_eq!(drain(&mut m).0, Vec::<u32>::new(), "stopped stays stopped");

    // Removed while the first REGISTER is in flight: its 2xx is followed
    // by the un-REGISTER.
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.handle_timeout(t0);
    drain(&mut m);
    m.stop();
    m.handle_outcome(ok(Some(600)), t0);
    assert_eq!(drain(&mut m).0, vec![0]);
    m.handle_outcome(ok(None), t0);
    assert!(m.is_stopped());
}

/// RFC 5626 §4.4.1: when the flow fails, a registered registration
/// registers again at once (its refresh timer no longer matters); not
/// while unregistered or with a REGISTER already on its way.
#[test]
fn a_failed_flow_registers_again_at_once() {
    let t0 = Instant::now();
    let mut m = Machine::new(policy(), t0, Duration::ZERO);
    m.flow_failed();
    assert_eq!(drain(&mut m).0, Vec::<u32>::new(), "not registered yet");
    m.handle_timeout(t0);
    assert_eq!(drain(&mut m).0, vec![3600]);
    m.flow_failed();
    assert_eq!(drain(&mut m).0, Vec::<u32>::new(), "in flight");
    m.handle_outcome(ok(Some(600)), t0);
    drain(&mut m);
    m.flow_failed();
    assert_eq!(drain(&mut m).0, vec![3600]);
    assert_eq!(m.poll_timeout(), None, "in flight again");
    m.handle_outcome(ok(Some(600)), t0 + secs(1));
    let (_, reports) = drain(&mut m);
    assert_eq!(
        reports,
        vec![(Status::Registered, Verdict::Registered(600))]
    );
}
