//! The expansion is clean under strict lints: CI's `cargo clippy --all-targets -D warnings`
//! checks this file, so a lint that fires on generated code fails the build.
#![deny(clippy::all, clippy::pedantic)]

use std::time::Duration;

use taskgroup::{ErrorGroup, group};

async fn item(i: u32) -> Result<u32, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(u64::from(i))).await;
    Ok(i)
}

async fn name(i: u32) -> Result<String, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(format!("item {i}"))
}

#[tokio::test(start_paused = true)]
async fn a_fan_out_over_a_plain_call_raises_no_redundant_closure_lint() -> Result<(), ErrorGroup> {
    group! {
        #![limit = 2]
        #![timeout = Duration::from_secs(1)]
        numbers = for i in 0..3 => item(i);
        names = for i in 0..2 => spawn name(i);
        first = item(7);
        except* taskgroup::Elapsed => (Vec::new(), Vec::new(), 0),
    }
    assert_eq!(numbers, [0, 1, 2]);
    assert_eq!(names, ["item 0", "item 1"]);
    assert_eq!(first, 7);
    Ok(())
}
