use std::time::Duration;

use obelus_core::events::Event;

use super::*;
use crate::functions::test_support::{context, on_channel};
use crate::testing::media::{media_channel, tone};

fn settings(args: &str) -> Settings {
    match parse(args, "default", "s").expect(args) {
        Request::Set(s) => s,
        Request::Remove => panic!("{args}: remove"),
    }
}

fn refused(args: &str) -> String {
    parse(args, "default", "s").unwrap_err().to_string()
}

#[test]
fn arguments_default_as_asterisks() {
    let s = settings("2600");
    assert_eq!(
        s,
        Settings {
            freq: 2600,
            duration_ms: 500,
            db: 16,
            rx: true,
            tx: false,
            hits_required: 1,
            goto_rx: None,
            goto_tx: None,
            end_after_goto: false,
        }
    );
    let s = settings("2600,1000,g(got-2600,s,1)n(2)d(10)");
    assert_eq!((s.duration_ms, s.hits_required, s.db), (1000, 2, 10));
    // Options without r or t: both sides; t alone: transmitted only.
    assert_eq!((s.rx, s.tx), (true, true));
    let s = settings("440,,th(5)");
    assert_eq!((s.rx, s.tx), (false, true));
    assert_eq!(
        s.goto_tx,
        Some(Destination {
            context: "default".into(),
            exten: "s".into(),
            priority: "5".into(),
        })
    );
    let s = settings("440,,rtg(other,lbl)e");
    assert_eq!((s.rx, s.tx, s.end_after_goto), (true, false, true));
    assert_eq!(
        s.goto_rx,
        Some(Destination {
            context: "default".into(),
            exten: "other".into(),
            priority: "lbl".into(),
        })
    );
    assert_eq!(parse("0,,x", "c", "e").unwrap(), Request::Remove);
}

#[test]
fn bad_arguments_get_asterisks_messages() {
    assert_eq!(refused(""), "No frequency specified");
    assert_eq!(refused("abc"), "Frequency must be an integer: abc");
    assert_eq!(refused("-5"), "Sorry, no negative frequencies: -5");
    assert_eq!(
        refused("440+480"),
        "Sorry, currently only 1 frequency is supported"
    );
    assert_eq!(
        refused("1+2+3"),
        "Only up to 2 frequencies may be specified: 1+2+3"
    );
    assert_eq!(refused("440,0"), "Invalid duration: 0");
    assert_eq!(refused("440,,d(0)"), "Invalid decibel level: 0");
    assert_eq!(refused("440,,n(x)"), "Invalid number hits required: x");
    assert!(refused("0,,b").contains("a frequency is required"));
}

#[tokio::test]
async fn without_media_or_detector_it_says_why() {
    let (_core, executor, channel, _dir) = on_channel();
    let cx = context(&executor, &channel);
    let err = ToneDetect.write(&cx, "1000", "").unwrap_err().to_string();
    assert!(err.ends_with("has no media stream to listen to"), "{err}");
    let err = ToneDetect.write(&cx, "0,,x", "").unwrap_err().to_string();
    assert!(err.ends_with("TONE_DETECT not currently enabled"), "{err}");
    assert!(ToneDetect.read(&cx, "rx").is_err());
    assert!(ToneDetect.read(&cx, "up").is_err());
}

/// Waits for the channel's next `ToneDetected` on the bus.
async fn next_tone(
    events: &mut tokio::sync::broadcast::Receiver<Arc<Event>>,
    uniqueid: &str,
    wait: Duration,
) -> bool {
    tokio::time::timeout(wait, async {
        loop {
            let event = events.recv().await.expect("bus open");
            if let Event::Channel(e) = event.as_ref()
                && e.channel.uniqueid == uniqueid
                && e.kind == ChannelEventKind::ToneDetected
            {
                return;
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_from_the_phone_is_counted_announced_and_redirects() {
    let (core, executor, _dir) = crate::testing::executor(
        "[default]\nexten => 1,1,NoOp()\nexten => 2,1,NoOp()\n same => n(got),NoOp()\n",
    );
    core.provide(Arc::clone(&executor));
    let (channel, _driver, mut phone) = media_channel(&core, "default", "1").await;
    let mut events = core.events.subscribe();
    let uniqueid = channel.uniqueid().to_owned();
    executor.set(Some(&channel), "TONE_DETECT(1400,300,g(2,got)n(2))", "");
    let read =
        |side: &str| executor.substitute(Some(&channel), &format!("${{TONE_DETECT({side})}}"));
    // Another frequency: nothing.
    phone.send_audio(&tone(1000.0, 4000)).await;
    assert!(!next_tone(&mut events, &uniqueid, Duration::from_millis(300)).await);
    assert_eq!(read("rx"), "0");
    // Two tones of 1400 Hz: two detections; the second redirects.
    for n in 1..=2 {
        phone.send_audio(&tone(1400.0, 4000)).await;
        phone.send_audio(&vec![0; 1600]).await;
        assert!(
            next_tone(&mut events, &uniqueid, Duration::from_secs(5)).await,
            "tone {n}"
        );
        if n == 1 {
            assert!(!channel.redirect_pending());
        }
    }
    assert_eq!((read("rx"), read("tx")), ("2".to_owned(), "0".to_owned()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        channel.take_redirect(),
        Some(("default".to_owned(), "2".to_owned(), 2))
    );
    // Set again: the counts stay; x removes it.
    executor.set(Some(&channel), "TONE_DETECT(2600)", "");
    assert_eq!(read("rx"), "2");
    let cx = context(&executor, &channel);
    ToneDetect.write(&cx, "0,,x", "").unwrap();
    phone.send_audio(&tone(2600.0, 4800)).await;
    assert!(!next_tone(&mut events, &uniqueid, Duration::from_millis(300)).await);
    assert!(ToneDetect.read(&cx, "rx").is_err());
}
