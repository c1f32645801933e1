//! A slow SMTP server (30 s before it answers a message) behind the outbox
//! dispatcher: the per-connection timeout fires, the message is retried,
//! and the other messages go through the free dispatcher slots meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_access_core::dispatch::{Dispatcher, DispatcherConfig};
use portal_access_core::testing::mailer::sample_message;
use portal_access_core::testing::MemoryStore;
use portal_access_core::{AccountStore, Changes, SystemClock};
use portal_access_smtp::{Sender, SmtpMailer};

use crate::support::{start_sink, SinkOptions, FROM};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_per_message_and_the_others_are_delivered_meanwhile() {
    let sink = start_sink(SinkOptions {
        delay: Some(Duration::from_secs(30)),
        delay_to: Some("slow".into()),
        ..SinkOptions::default()
    })
    .await;
    let sender: Sender = FROM.parse().expect("sender");
    let mailer = SmtpMailer::builder(&sink.url(), sender)
        .expect("valid URL")
        .timeout(Duration::from_secs(1))
        .build()
        .expect("mailer");
    let store = Arc::new(MemoryStore::new());
    let mut outbox = vec![
        sample_message("slow-1@example.com", "Slow 1"),
        sample_message("slow-2@example.com", "Slow 2"),
    ];
    outbox.extend((0..10).map(|n| sample_message(&format!("c{n}@example.com"), "Quick")));
    let changes = Changes {
        outbox,
        ..Changes::default()
    };
    store.commit(changes).await.expect("queued");
    let config = DispatcherConfig {
        concurrency: 4,
        ..DispatcherConfig::default()
    };
    let dispatcher = Dispatcher::new(
        store.clone(),
        Arc::new(mailer),
        Arc::new(SystemClock),
        config,
    );
    let started = Instant::now();

    let report = dispatcher.run_once().await.expect("leased");

    let elapsed = started.elapsed();
    assert_eq!((report.sent, report.retried, report.failed), (10, 2, 0));
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let quick = sink.wait_for("c9@example.com", 1).await.expect("received");
    assert_eq!(quick.len(), 1);
    let received = sink.received().expect("received");
    assert_eq!(received.len(), 10, "none of the slow ones got through yet");
    assert!(received.iter().all(|m| m.subject == "Quick"));
    // Scheduled again, not given up on: nothing is due yet.
    let now = time::OffsetDateTime::now_utc();
    let due = store.lease_outbox(now, now + time::Duration::minutes(1), 50);
    assert!(due.await.expect("lease").is_empty());
}
