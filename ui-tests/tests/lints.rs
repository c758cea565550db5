//! The expansion under strict lints, checked by `cargo clippy --all-targets -- -D warnings`:
//! `clippy::pedantic` and `unused_qualifications` on the user's crate see no warning.
#![deny(warnings, unused_qualifications, clippy::pedantic)]

use std::time::Duration;

use taskgroup::{ErrorGroup, group, structured};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(n)
}

#[structured]
async fn run() -> Result<u32, ErrorGroup> {
    group! {
        #![name = "lints"]
        #![timeout = Duration::from_secs(1)]
        #![limit = 4]
        #![grace = Duration::from_millis(1)]
        first = fetch(1);
        second = spawn fetch(2);
        each = for n in 0..3 => fetch(n);
        spawned = for n in 0..3 => spawn fetch(n);
        _ = fetch(3);
        except* std::io::Error as errors => return Err(errors.map(Into::into)),
        except* taskgroup::Elapsed => (0, 0, Vec::new(), Vec::new()),
    }
    group! {
        #![mode = settle]
        settled = fetch(4);
    }
    group! {
        #![mode = supervise]
        mut supervised = fetch(5);
        except* _ => 0,
    }
    supervised += settled.unwrap_or_default();
    Ok(first
        + second
        + each.into_iter().sum::<u32>()
        + spawned.into_iter().sum::<u32>()
        + supervised)
}

#[tokio::test]
async fn strict_lints() -> Result<(), ErrorGroup> {
    assert_eq!(run().await?, 18);
    Ok(())
}
